/** The reason a target URL carrying `user:password@` is refused (the credentials would be sent, logged and shown with it). */
export const CREDENTIALS_IN_URL = 'the target URL must not contain a user name or password; give them to a BasicAuthenticator instead';

/** True when the URL names a user or password before its host. */
export function hasUrlCredentials(url: URL): boolean {
  return url.username !== '' || url.password !== '';
}

/** The URL with any `user:password@` part removed, for messages about a URL that could not be used. */
export function withoutCredentials(url: string): string {
  return url.replace(/^([a-z][a-z0-9+.-]*:\/\/)[^/?#]*@/i, '$1');
}

/** A warning when HTTP Basic credentials would cross the network unencrypted, else undefined. */
export function plaintextCredentialsWarning(secure: boolean, sendsBasic: boolean): string | undefined {
  return !secure && sendsBasic ? 'HTTP Basic credentials are sent unencrypted over ws://; anyone on the network path can read the password (use wss://)' : undefined;
}
