export * from './delivery/budgets.ts';
export type * from './delivery/contract.ts';
export * from './delivery/delivery-engine.ts';
export { slackManifest } from './slack/manifest.ts';
export * from './slack/parse-vote-command.ts';
export * from './slack/render-poll.ts';
export * from './slack/replay-guard.ts';
export * from './slack/slack-app.ts';
export * from './tally/tally-sync.ts';
export * from './teams/app-package.ts';
export * from './teams/conversation-reference.ts';
export * from './teams/parse-teams-command.ts';
export {
  CARD_CONTENT_TYPE,
  type Card,
  cardAttachment,
  cardBytes,
  MAX_CARD_BYTES,
  pollCard,
} from './teams/poll-card.ts';
export * from './teams/proactive.ts';
export * from './teams/tab.ts';
export * from './teams/tab-auth.ts';
export * from './teams/teams-app.ts';
export * from './teams/teams-delivery.ts';
export * from './teams/workspace-admin.ts';
