// Slack's own checks of a message's or a modal's Block Kit, as its API answers them: the limits its reference gives
// for each block, element, option and text object (sizes, counts, required parts, unique block ids, initial
// options that must be among the options). Slack refuses a message that breaks one with HTTP 200
// `{ok: false, error: 'invalid_blocks'}` (`msg_too_long` for a fallback text past 40,000 characters) and a modal
// with `invalid_arguments`, naming each problem in `response_metadata.messages` as
// `[ERROR] <what> [json-pointer:<where>]`. The fake Slack answers through this; renderer tests call it directly.

type Json = Record<string, unknown>;

export interface BlockKitProblem {
  pointer: string;
  message: string;
}

const isObj = (x: unknown): x is Json => typeof x === 'object' && x !== null && !Array.isArray(x);

class Checker {
  readonly problems: BlockKitProblem[] = [];
  private readonly blockIds = new Set<string>();

  fail(pointer: string, message: string): void {
    this.problems.push({ pointer, message });
  }

  maxLen(at: string, value: unknown, max: number): void {
    if (typeof value === 'string' && value.length > max)
      this.fail(at, `must be less than ${max + 1} characters`);
  }

  text(at: string, t: unknown, max: number, kinds: readonly string[] = ['plain_text', 'mrkdwn']): void {
    if (!isObj(t)) {
      this.fail(at, 'must be a text object');
      return;
    }
    if (!kinds.includes(String(t.type))) {
      this.fail(`${at}/type`, `must be one of ${kinds.join(', ')}`);
      return;
    }
    if (typeof t.text !== 'string' || t.text.length === 0) {
      this.fail(`${at}/text`, 'must be more than 0 characters');
      return;
    }
    this.maxLen(`${at}/text`, t.text, max);
  }

  private list(at: string, xs: unknown, min: number, max: number): unknown[] {
    if (!Array.isArray(xs)) {
      this.fail(at, 'must be an array');
      return [];
    }
    if (xs.length < min) this.fail(at, `must provide at least ${min} item${min === 1 ? '' : 's'}`);
    if (xs.length > max) this.fail(at, `must provide at most ${max} items`);
    return xs;
  }

  private option(at: string, o: unknown): void {
    if (!isObj(o)) {
      this.fail(at, 'must be an option object');
      return;
    }
    this.text(`${at}/text`, o.text, 75);
    if (typeof o.value !== 'string' || o.value.length === 0)
      this.fail(`${at}/value`, 'must be more than 0 characters');
    this.maxLen(`${at}/value`, o.value, 150);
    if (o.description !== undefined) this.text(`${at}/description`, o.description, 75);
  }

  private options(at: string, e: Json, max: number): void {
    const all: unknown[] = [];
    if (e.option_groups !== undefined) {
      for (const [i, g] of this.list(`${at}/option_groups`, e.option_groups, 1, 100).entries()) {
        const gat = `${at}/option_groups/${i}`;
        if (!isObj(g)) {
          this.fail(gat, 'must be an option group');
          continue;
        }
        this.text(`${gat}/label`, g.label, 75, ['plain_text']);
        for (const [j, o] of this.list(`${gat}/options`, g.options, 1, 100).entries()) {
          this.option(`${gat}/options/${j}`, o);
          all.push(o);
        }
      }
    } else
      for (const [i, o] of this.list(`${at}/options`, e.options, 1, max).entries()) {
        this.option(`${at}/options/${i}`, o);
        all.push(o);
      }
    const initial = e.initial_options ?? (e.initial_option === undefined ? [] : [e.initial_option]);
    const known = new Set(all.map((o) => JSON.stringify(o)));
    for (const [i, o] of (Array.isArray(initial) ? initial : []).entries())
      if (!known.has(JSON.stringify(o)))
        this.fail(`${at}/initial_options/${i}`, 'must match one of the provided options');
  }

  element(at: string, e: unknown): void {
    if (!isObj(e)) {
      this.fail(at, 'must be an element');
      return;
    }
    this.maxLen(`${at}/action_id`, e.action_id, 255);
    if (e.placeholder !== undefined) this.text(`${at}/placeholder`, e.placeholder, 150, ['plain_text']);
    switch (e.type) {
      case 'button':
        this.text(`${at}/text`, e.text, 75, ['plain_text']);
        this.maxLen(`${at}/value`, e.value, 2_000);
        this.maxLen(`${at}/url`, e.url, 3_000);
        return;
      case 'static_select':
      case 'multi_static_select':
        this.options(at, e, 100);
        return;
      case 'radio_buttons':
      case 'checkboxes':
        this.options(at, e, 10);
        return;
      case 'plain_text_input':
        if (typeof e.max_length === 'number' && e.max_length > 3_000)
          this.fail(`${at}/max_length`, 'must be at most 3000');
        if (typeof e.initial_value === 'string' && typeof e.max_length === 'number')
          this.maxLen(`${at}/initial_value`, e.initial_value, e.max_length);
        return;
      case 'datetimepicker':
      case 'datepicker':
      case 'timepicker':
      case 'url_text_input':
      case 'number_input':
      case 'image':
      case 'overflow':
      case 'users_select':
      case 'conversations_select':
      case 'channels_select':
        return;
      default:
        this.fail(`${at}/type`, `unknown element type ${String(e.type)}`);
    }
  }

  block(at: string, b: unknown): void {
    if (!isObj(b)) {
      this.fail(at, 'must be a block');
      return;
    }
    if (b.block_id !== undefined) {
      const id = String(b.block_id);
      this.maxLen(`${at}/block_id`, id, 255);
      if (this.blockIds.has(id)) this.fail(`${at}/block_id`, `duplicate block_id ${id}`);
      this.blockIds.add(id);
    }
    switch (b.type) {
      case 'header':
        this.text(`${at}/text`, b.text, 150, ['plain_text']);
        return;
      case 'section':
        if (b.text === undefined && b.fields === undefined) {
          this.fail(at, 'must provide either text or fields');
          return;
        }
        if (b.text !== undefined) this.text(`${at}/text`, b.text, 3_000);
        if (b.fields !== undefined)
          for (const [i, f] of this.list(`${at}/fields`, b.fields, 1, 10).entries())
            this.text(`${at}/fields/${i}`, f, 2_000);
        if (b.accessory !== undefined) this.element(`${at}/accessory`, b.accessory);
        return;
      case 'context':
        for (const [i, e] of this.list(`${at}/elements`, b.elements, 1, 10).entries())
          if (!isObj(e) || e.type !== 'image') this.text(`${at}/elements/${i}`, e, 3_000);
        return;
      case 'actions':
        for (const [i, e] of this.list(`${at}/elements`, b.elements, 1, 25).entries())
          this.element(`${at}/elements/${i}`, e);
        return;
      case 'input':
        this.text(`${at}/label`, b.label, 2_000, ['plain_text']);
        if (b.hint !== undefined) this.text(`${at}/hint`, b.hint, 2_000, ['plain_text']);
        this.element(`${at}/element`, b.element);
        return;
      case 'divider':
        return;
      default:
        this.fail(`${at}/type`, `unknown block type ${String(b.type)}`);
    }
  }

  blocks(at: string, blocks: unknown, max: number): void {
    for (const [i, b] of this.list(at, blocks, 0, max).entries()) this.block(`${at}/${i}`, b);
  }
}

/** What Slack finds wrong with a message's `text` and `blocks` (chat.postMessage, chat.update, chat.postEphemeral). */
export function messageProblems(body: { text?: unknown; blocks?: unknown }): BlockKitProblem[] {
  const c = new Checker();
  if (body.blocks !== undefined) c.blocks('/blocks', body.blocks, 50);
  return c.problems;
}

/** Slack's answer to a message body it refuses, or null: `msg_too_long` first, then `invalid_blocks`. */
export function messageRefusal(body: { text?: unknown; blocks?: unknown }): Json | null {
  if (typeof body.text === 'string' && body.text.length > 40_000) return { ok: false, error: 'msg_too_long' };
  const problems = messageProblems(body);
  return problems.length ? refusal('invalid_blocks', problems) : null;
}

/** What Slack finds wrong with a modal view (views.open, views.update, views.push, a response_action's view). */
export function viewProblems(view: unknown): BlockKitProblem[] {
  const c = new Checker();
  if (!isObj(view)) {
    c.fail('/view', 'must be a view object');
    return c.problems;
  }
  if (view.type !== 'modal') c.fail('/view/type', 'must be modal');
  c.text('/view/title', view.title, 24, ['plain_text']);
  if (view.submit !== undefined) c.text('/view/submit', view.submit, 24, ['plain_text']);
  if (view.close !== undefined) c.text('/view/close', view.close, 24, ['plain_text']);
  c.maxLen('/view/private_metadata', view.private_metadata, 3_000);
  c.maxLen('/view/callback_id', view.callback_id, 255);
  c.blocks('/view/blocks', view.blocks, 100);
  const inputs = Array.isArray(view.blocks) && view.blocks.some((b) => isObj(b) && b.type === 'input');
  if (inputs && view.submit === undefined)
    c.fail('/view/submit', 'must be provided when the view has inputs');
  return c.problems;
}

/** Slack's answer to a view it refuses (`invalid_arguments`), or null. */
export function viewRefusal(view: unknown): Json | null {
  const problems = viewProblems(view);
  return problems.length ? refusal('invalid_arguments', problems) : null;
}

function refusal(error: string, problems: BlockKitProblem[]): Json {
  return {
    ok: false,
    error,
    response_metadata: { messages: problems.map((p) => `[ERROR] ${p.message} [json-pointer:${p.pointer}]`) },
  };
}
