/**
 * Frames captured from a real Couchbase Lite (LiteCore 3.0-era) client, from
 * /work/shared/PROTOCOL-NOTES.md. Facts, used as test vectors.
 */

export const FRAME1_HEX = '01' + '00' + '3d' + '50726f66696c6500676574436865636b706f696e7400636c69656e740063702d54702f547466754749646b6c6e48362f424172686b41754f635a303d00' + 'e4fe05d3';
export const FRAME2_HEX =
  '02' +
  '18' +
  '54cdb10ac3300c04d0fc4577cf2948566c4b737fa07bc860d9725b284d48fe1f6a3214ba1ef7ee2ef77d6dafb70ddbbe6eeb61b767fe3cec18e6d9d5b5a01b1d5e1b48a6e44d72098513332805ad809e2499cf54395843e965377a5ec6d3fad316ae5051204254142f18696215f53451c0c83d110e39ff5b3aad62a10249ab11a47ed0c0f7b9a662530c10b485920dcbcf2e5f00' +
  '0b66ae12';
export const FRAME1_CHECKPOINT_CLIENT = 'cp-Tp/TtfuGIdklnH6/BArhkAuOcZ0=';
export const FRAME2_BODY =
  '[["doc1","1-f09a372e9ac5c87880b35bd012397e2a3d85ef19","",28],["doc2","1-c8d0d190606b192916348b9b23435168291985aa","",28],["doc3","1-b1c3c07bde307ef1f02c8dfb9e46505bf5cae1ca","",28]]';
