/**
 * Golden vectors, pinned: the same values are listed in docs/protocol.md §Commitments "Test
 * vectors" for the Solidity verifier's tests. A change here is a protocol change.
 */
import { bytesToHex, keccak256 } from 'viem';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  commitModel,
  hexRoot,
  keccakReady,
  merkleRoot,
  proveWords,
  tensorBytes,
  tensorRoot,
  tensorRootPreimage,
  traceRoot,
  verifyWords,
  wordsProofToHex,
  ZERO_HASHES,
} from '../../src/commit/index.js';
import { refMerkleRoot, refModelRoot, refTensorRoot, refTraceRoot, refWords } from './reference.js';
import { vecBytes, vecI32, vecI8, vecModel, vecProofIndices } from './vectors.js';

beforeAll(async () => {
  await keccakReady;
});

describe('golden vectors', () => {
  it('Merkle tree and multiproof', () => {
    expect(hexRoot(ZERO_HASHES[0])).toBe('0xf39a869f62e75cf5f0bf914688a6b289caf2049435d8e68c5c5e6d05e44913f3');
    expect(hexRoot(merkleRoot(vecBytes))).toBe('0xe5307c28c8496cf38f3b52a55b9a084b555a02db6a475c5d393544f9c5faa350');
    expect(merkleRoot(vecBytes)).toEqual(refMerkleRoot(refWords(vecBytes)));
    const p = proveWords(vecBytes, vecProofIndices);
    expect(wordsProofToHex(p)).toEqual({
      leafCount: 10,
      indices: [1, 2, 7],
      words: [
        '0x202122232425262728292a2b2c2d2e2f303132333435363738393a3b3c3d3e3f',
        '0x404142434445464748494a4b4c4d4e4f505152535455565758595a5b5c5d5e5f',
        '0xe0e1e2e3e4e5e6e7e8e9eaebecedeeeff0f1f2f3f4f5f6f7f8f9fafbfcfdfeff',
      ],
      siblings: [
        '0x683ea6c3fe5897c14793af914188cf6213ae23055d2db482662fb2d34397b46c',
        '0x0c7f586b1ff63e62511804b6937be5e171b29bac2b86fb76b89dcbf09ac7cd55',
        '0x356f18a3a15afdc32a265528e1d30ec687701145ff224a7cc65ba9faa36c9b3f',
        '0xc27e1eca8d8694e1e025f4a7b0c64fb72f8343acaa1eaa5dab847d464ec6db3e',
        '0x55b7a2c2b7607b69a8b8a48d666588eab270cf554dc33765cb4653dd2c176c7d',
      ],
    });
    expect(verifyWords(merkleRoot(vecBytes), p)).toBe(true);
  });

  it('tensorRoot and traceRoot', () => {
    expect(bytesToHex(tensorRootPreimage('i8', [2, 3], merkleRoot(tensorBytes(vecI8))))).toBe(
      '0x020100000006020000000200000003d983e6a59d419e254ae257fd46cec8423b02c4080dd300e312a44b65d801259a',
    );
    expect(hexRoot(tensorRoot(vecI8))).toBe('0x830651e343371403b45627d3fa27d8cefb19db1eea7121c6a5f885fc945d84cc');
    expect(hexRoot(tensorRoot(vecI32))).toBe('0x7130f163db0c84f531b93d2b05422a7e2f8f91df86e58cf088414284e528e8b6');
    expect(hexRoot(traceRoot([vecI8, vecI32]))).toBe('0x0fd8e1c2b4f4bcc830a7bcea846f837689f455e951ca93186818a72a2e8bcd20');
    expect(tensorRoot(vecI8)).toEqual(refTensorRoot(vecI8));
    expect(traceRoot([vecI8, vecI32])).toEqual(refTraceRoot([vecI8, vecI32]));
  });

  it('node headers, node commitments and modelRoot', () => {
    const m = vecModel();
    const c = commitModel(m);
    expect(bytesToHex(c.headers[2])).toBe(
      '0x' +
        [
          '20', 'c', '100', '3', '140', '260', '320', '360', '3c0', // tuple offset, op=Reshape(12), →inputs, output=3, →inputMeta, →outputMeta, →attrKeys, →attrsFlat, →params
          '1', '2', // inputs = [2]
          '1', '20', '1', '0', '3', '80', '2', '1', '4', // inputMeta: 1 elem, →elem0, dtype=1, layout=0, zp=3, →shape, shape=[1,4]
          '1', '0', '3', '80', '1', '4', // outputMeta: dtype=1, layout=0, zp=3, →shape, shape=[4]
        ]
          .map((w) => w.padStart(64, '0'))
          .join('') +
        '1'.padStart(64, '0') + '7368617065'.padEnd(64, '0') + // attrKeys = ["shape"]
        ['2', '1', '4', '0'].map((w) => w.padStart(64, '0')).join(''), // attrsFlat = [1 (array of 1), 4]; params = []
    );
    expect(c.headers.map((h) => keccak256(h))).toEqual([
      '0xe7abcfdccba6690ad8d6970e44d6bf91ebf37f3a9f7056295b5b3b7e28db4f58',
      '0xb60a502711b76091889ee60379032e06546e98981f081d963c0f77e97fcbf5ad',
      '0xfa6b3aae558e6948e0a09b68a015177e01ba99b8655be26f03fb106f95300d4f',
    ]);
    expect(hexRoot(c.paramRoots[1][0])).toBe('0xb921ec2509134eab90987ffb4bd4dc6952cd469674b7d7636cc5072b26baa4d5');
    expect(c.nodeCommitments.map(hexRoot)).toEqual([
      '0x3505e74f4aed2e091bbf47d8c58533e75e34b020de52227c9f2cf709db21a032',
      '0x909b3c8f21c857c358a93b5ea92e18062e1e207d2956164fbd6eec2d3b5453f7',
      '0x7d6dfb1560408967b7916f694d45751a81e65ba5639ec931816a4f47afb2f0ae',
    ]);
    expect(hexRoot(c.root)).toBe('0xc897ce995d2fd7931d6f7a25c492086410c6290bfdae2db706ecf2d44c792eac');
    expect(c.root).toEqual(refModelRoot(m));
  });
});
