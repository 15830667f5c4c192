/** TLS identities, keystore and server-certificate trust for PeerSync listeners and replicators. */
export * from './identity';
export * from './create-identity';
export * from './pkcs12';
export * from './keystore';
export * from './anonymous-identity';
export * from './trust';
