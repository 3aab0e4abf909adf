// Signed requests to our Slack endpoint, shaped like Slack's: slash commands (form fields), interactivity
// (a form field `payload` holding JSON) and Events API callbacks (JSON).
import { slackHeaders } from './fake-slack.ts';

export function slackRequests(base: string, secret: string, slackApiUrl: string) {
  // Slack gives every command its own trigger id, so two commands are never the same signed request.
  let triggers = 0;
  const send = (
    body: string,
    contentType: string,
    headers: Record<string, string> = slackHeaders(secret, body),
  ) =>
    fetch(`${base}/slack/events`, {
      method: 'POST',
      headers: { 'content-type': contentType, ...headers },
      body,
    });
  const form = (fields: Record<string, string>) => new URLSearchParams(fields).toString();
  return {
    send,
    form,
    command: (command: string, text: string, user = 'U1', team = 'T1', channel = 'C1') =>
      send(
        form({
          command,
          text,
          team_id: team,
          user_id: user,
          channel_id: channel,
          trigger_id: `trig-${team}-${++triggers}`,
          response_url: `${slackApiUrl}resp`,
        }),
        'application/x-www-form-urlencoded',
      ),
    /** `timestamp`: when Slack signed it (a retry is signed anew, later). */
    action: (payload: object, headers?: Record<string, string>, timestamp?: number) => {
      const body = form({ payload: JSON.stringify(payload) });
      return send(body, 'application/x-www-form-urlencoded', {
        ...slackHeaders(secret, body, timestamp),
        ...headers,
      });
    },
    event: (team: string, event: object) =>
      send(
        JSON.stringify({
          token: 'x',
          team_id: team,
          api_app_id: 'A1',
          type: 'event_callback',
          event_id: `Ev${Math.random().toString(36).slice(2)}`,
          event_time: Math.floor(Date.now() / 1000),
          event,
        }),
        'application/json',
      ),
  };
}
