// What Slack sends as a modal's `view.state` on submit: per block, per action, the input's value. Each field is
// present only for its kind of input; the modals read the ones their inputs have.
export interface ViewState {
  values: Record<
    string,
    Record<
      string,
      {
        value?: string | null;
        selected_time?: string | null;
        selected_date_time?: number | null;
        selected_option?: { value: string } | null;
        selected_options?: { value: string; text?: { text: string } }[];
      }
    >
  >;
}
