export * from './slack/parse-vote-command.ts';
export * from './slack/render-poll.ts';
export * from './slack/slack-app.ts';
export * from './tally/message-updater.ts';
export * from './tally/tally-sync.ts';
export * from './teams/app-package.ts';
export * from './teams/parse-teams-command.ts';
export { CARD_CONTENT_TYPE, type Card, cardAttachment, MAX_CARD_BYTES, pollCard } from './teams/poll-card.ts';
export * from './teams/teams-app.ts';
