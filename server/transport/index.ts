/** WebSocket transport for BLIP: the passive side's listener and the active side's connector. */
export * from './blip-websocket-server';
export * from './connection-error';
export * from './websocket-client';
