import { performance } from 'node:perf_hooks';
import type WebSocket from 'ws';
import type { BlipConnection } from '../blip/connection';
import { CloseCode } from '../blip/constants';
import type { ConnectionLimits } from './connection-limits';

type WatchdogLimits = Pick<ConnectionLimits, 'pingIntervalMs' | 'idleTimeoutMs' | 'firstMessageTimeoutMs'>;

/**
 * Watches one accepted WebSocket: pings it when it goes quiet, closes it (1001) when it stays
 * silent through pings, and closes it (1008) if it never speaks BLIP. A peer that does not finish
 * the close handshake within `closeGraceMs` is cut off. Stops by itself when the socket closes.
 */
export function watchIdle(ws: WebSocket, connection: BlipConnection, limits: WatchdogLimits, closeGraceMs: number): void {
  const connectedAt = performance.now();
  let lastHeard = connectedAt;
  let sawMessage = false;
  let pinged = false;
  let timer: NodeJS.Timeout | undefined;

  const heard = (): void => {
    lastHeard = performance.now();
    pinged = false;
  };
  const onMessage = (): void => {
    sawMessage = true;
    heard();
  };

  const closeFor = (code: number, reason: string): void => {
    stop();
    connection.close(code, reason);
    const cutOff = setTimeout(() => ws.terminate(), closeGraceMs);
    cutOff.unref();
    ws.once('close', () => clearTimeout(cutOff));
  };

  // Deadlines only move later as traffic arrives, so a check that finds nothing due reschedules.
  const check = (): void => {
    const now = performance.now();
    if (!sawMessage && now - connectedAt >= limits.firstMessageTimeoutMs) {
      closeFor(CloseCode.PolicyViolation, `no BLIP message within ${limits.firstMessageTimeoutMs} ms of connecting`);
      return;
    }
    const silentFor = now - lastHeard;
    if (silentFor >= limits.idleTimeoutMs) {
      closeFor(CloseCode.GoingAway, `nothing received for ${limits.idleTimeoutMs} ms (pings unanswered)`);
      return;
    }
    if (silentFor >= limits.pingIntervalMs && !pinged) {
      pinged = true;
      ws.ping();
    }
    // Once pinged, look again a ping interval later: the pong moves lastHeard, not this timer.
    const deadlines = [lastHeard + limits.idleTimeoutMs, pinged ? now + limits.pingIntervalMs : lastHeard + limits.pingIntervalMs];
    if (!sawMessage) deadlines.push(connectedAt + limits.firstMessageTimeoutMs);
    timer = setTimeout(check, Math.max(1, Math.min(...deadlines) - now));
    timer.unref();
  };

  function stop(): void {
    clearTimeout(timer);
    ws.off('message', onMessage);
    ws.off('ping', heard);
    ws.off('pong', heard);
  }

  ws.on('message', onMessage);
  ws.on('ping', heard);
  ws.on('pong', heard);
  ws.once('close', stop);
  check();
}
