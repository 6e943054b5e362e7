/**
 * Commitments: keccak256 Merkle roots of tensors, traces and models, and the proofs the EVM
 * one-step verifier checks. Byte layouts and algorithms: docs/protocol.md §Commitments.
 * Pure and browser-compatible (no node: imports). Await `keccakReady` once before bulk work
 * (results are identical before it resolves, only slower).
 */
export { CommitError, EncodingError, ProofError } from './errors.js';
export { keccakReady, keccakBackend, keccak256, leafHash, nodeHash, ZERO_HASHES, PREFIX, MAX_DEPTH } from './keccak.js';
export {
  DTYPE_CODES,
  dtypeCode,
  dtypeFromCode,
  elementSize,
  tensorBytes,
  decodeElement,
  wordCount,
  leafCountOfBytes,
  hexRoot,
  rootFromHex,
  bytesEqual,
  type TensorLike,
} from './bytes.js';
export {
  merkleRoot,
  MerkleTree,
  treeDepth,
  proveWords,
  proveRange,
  proveRanges,
  wordIndicesOfRanges,
  checkWordsProof,
  rootFromWordsProof,
  verifyWords,
  wordsProofToHex,
  wordsProofFromHex,
  type WordsProof,
  type HexWordsProof,
} from './merkle.js';
export {
  tensorRoot,
  tensorRootPreimage,
  tensorRootFromDataRoot,
  TensorCommitment,
  proveElement,
  proveElementRanges,
  rootFromTensorProof,
  verifyTensorProof,
  verifyElement,
  readProvenElement,
  type TensorProof,
  type ElementProof,
  type ElementRange,
} from './tensor.js';
export { listRoot, listRootFromMerkleRoot, type MembershipProof } from './list.js';
export {
  traceRoot,
  traceRootHex,
  traceTensorRoots,
  traceRootFromTensorRoots,
  TraceCommitment,
  commitTrace,
  proveTraceTensor,
  rootFromTraceTensorProof,
  verifyTraceTensor,
  type TraceTensorProof,
} from './trace.js';
export {
  NODE_HEADER_ABI,
  LAYOUT_CODES,
  nodeHeaderOf,
  encodeHeader,
  encodeNodeHeader,
  decodeNodeHeader,
  sortNames,
  nodeCommitmentFrom,
  nodeCommitment,
  nodeParamRoots,
  paramRoot,
  modelRoot,
  modelRootHex,
  ModelCommitment,
  commitModel,
  proveModelNode,
  rootFromModelNodeProof,
  verifyModelNode,
  type NodeHeader,
  type TensorMeta,
  type ParamMeta,
  type ModelNodeProof,
} from './model.js';
export { ioDigest, inputHashOf, outputHashOf, outputHashesOf, outputHashesOfFlat, type IoPrefix } from './io.js';
