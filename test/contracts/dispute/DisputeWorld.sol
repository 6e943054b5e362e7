// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {Test} from "../utils/Test.sol";
import {DisputeGame} from "../../../contracts/dispute/DisputeGame.sol";
import {NodeHeader, TensorMeta, ParamMeta} from "../../../contracts/verifier/VerifierTypes.sol";
import {ProofLib} from "../../../contracts/verifier/lib/ProofLib.sol";
import {DisputeCommitments as C} from "../../../contracts/dispute/DisputeCommitments.sol";
import {IOneStepVerifier, NodeProof, WordsProof, OneStep} from "../../../contracts/interfaces/IOneStepVerifier.sol";
import {MockOneStepVerifier} from "./mocks/MockOneStepVerifier.sol";
import {TestBondToken} from "./mocks/TestBondToken.sol";

/// @notice Complete binary keccak tree (docs/protocol.md §Commitments) over words padded with zero words to 2^depth
/// (zero words hash to Z[0], so this is the protocol's padded tree). levels[0] are leaf hashes.
library Tree {
    function build(bytes32[] memory words) internal pure returns (bytes32[][] memory levels) {
        uint256 d = ProofLib.depthOf(words.length == 0 ? 1 : words.length);
        levels = new bytes32[][](d + 1);
        uint256 n = uint256(1) << d;
        levels[0] = new bytes32[](n);
        for (uint256 i; i < n; ++i) {
            levels[0][i] = ProofLib.leafHash(i < words.length ? words[i] : bytes32(0));
        }
        for (uint256 l = 1; l <= d; ++l) {
            n >>= 1;
            levels[l] = new bytes32[](n);
            for (uint256 i; i < n; ++i) {
                levels[l][i] = ProofLib.nodeHash(levels[l - 1][2 * i], levels[l - 1][2 * i + 1]);
            }
        }
    }

    function root(bytes32[][] memory levels) internal pure returns (bytes32) {
        return levels[levels.length - 1][0];
    }

    function proof(bytes32[][] memory levels, uint256 index) internal pure returns (bytes32[] memory sib) {
        uint256 d = levels.length - 1;
        sib = new bytes32[](d);
        for (uint256 l; l < d; ++l) {
            sib[l] = levels[l][(index >> l) ^ 1];
        }
    }
}

/// @notice Builds a synthetic model and two traces (honest and the claimant's) and plays the dispute moves.
/// The model: `nodes` Requantize nodes in a chain, tensor i+1 = node i(tensor i); every tensor has the same dtype
/// and shape [size]. "Correct" values are whatever the honest trace holds: the mock verifier answers from it.
abstract contract DisputeWorld is Test {
    uint96 internal constant BOND = 10e18;
    uint64 internal constant CLOCK = 3 days;

    address internal governance = makeAddr("governance");
    address internal claimant = makeAddr("claimant");
    address internal challenger = makeAddr("challenger");
    address internal stranger = makeAddr("stranger");

    TestBondToken internal token;
    MockOneStepVerifier internal verifier;
    DisputeGame[5] internal games; // games[s]: levelsPerMove = s (1..4)
    DisputeGame internal dg; // the one in use

    // scenario
    uint8 internal dtype;
    uint256 internal size; // elements per tensor
    uint256 internal nodeCount;
    uint256 internal count; // trace tensors = 1 + nodeCount
    bytes[] internal honest; // element bytes per tensor id
    bytes[] internal claimed;
    bytes32[] internal honestRoots;
    bytes32[] internal claimRoots;
    bytes[] internal headers;
    bytes32 internal modelRoot;
    bytes32 internal inputHash;
    bytes32 internal outputHash;

    function setUp() public virtual {
        token = new TestBondToken();
        verifier = new MockOneStepVerifier();
        for (uint8 s = 1; s <= 4; ++s) {
            games[s] = new DisputeGame(governance, token, verifier, BOND, CLOCK, s);
            token.mint(claimant, 1_000 * uint256(BOND));
            token.mint(challenger, 1_000 * uint256(BOND));
            vm.prank(claimant);
            token.approve(address(games[s]), type(uint256).max);
            vm.prank(challenger);
            token.approve(address(games[s]), type(uint256).max);
        }
        dg = games[2];
    }

    // ------------------------------------------------------------------ scenario building

    function _es() internal view returns (uint256) {
        return dtype == 3 ? 4 : 1;
    }

    /// @dev Element `e` of i32 element bytes (big-endian, docs/protocol.md "Element bytes").
    function _i32(bytes memory b, uint256 e) internal pure returns (int256) {
        uint32 u = (uint32(uint8(b[4 * e])) << 24) | (uint32(uint8(b[4 * e + 1])) << 16)
            | (uint32(uint8(b[4 * e + 2])) << 8) | uint32(uint8(b[4 * e + 3]));
        return int256(int32(u));
    }

    /// @dev Honest trace from `seed`; the claimant's trace equals it except element `badElement` of tensor
    /// `badTensor` (no corruption if badTensor == 0 or ≥ count).
    function _scenario(uint256 seed, uint8 dtype_, uint256 size_, uint256 nodes_, uint256 badTensor, uint256 badElement)
        internal
    {
        dtype = dtype_;
        size = size_;
        nodeCount = nodes_;
        count = nodes_ + 1;
        delete honest;
        delete claimed;
        delete honestRoots;
        delete claimRoots;
        delete headers;
        uint256 len = size_ * _es();
        for (uint256 t; t < count; ++t) {
            bytes memory b = new bytes(len + 32);
            for (uint256 w; 32 * w < len; ++w) {
                bytes32 x = keccak256(abi.encode(seed, t, w));
                assembly ("memory-safe") {
                    mstore(add(add(b, 32), mul(32, w)), x)
                }
            }
            assembly ("memory-safe") {
                mstore(b, len) // trim to len (the spare tail stays allocated)
            }
            honest.push(b);
            bytes memory c = bytes.concat(b);
            if (t == badTensor && size_ > 0) {
                uint256 e = badElement % size_;
                uint256 pos = e * _es() + _es() - 1; // flip the element's last byte
                c[pos] = bytes1(uint8(c[pos]) ^ 0x5a);
            }
            claimed.push(c);
            honestRoots.push(_tensorRoot(b));
            claimRoots.push(_tensorRoot(c));
        }
        bytes32[] memory commitments = new bytes32[](nodes_);
        for (uint256 i; i < nodes_; ++i) {
            bytes memory h = _header(i);
            headers.push(h);
            commitments[i] = keccak256(abi.encodePacked(uint8(4), keccak256(h), ProofLib.ZERO_LEAF));
            verifier.setReference(i, honest[i + 1]);
        }
        modelRoot = ProofLib.listRoot(5, nodes_, Tree.root(Tree.build(commitments)));
        inputHash = keccak256(abi.encodePacked(uint8(6), uint32(1), claimRoots[0]));
        outputHash = keccak256(abi.encodePacked(uint8(7), uint32(1), claimRoots[count - 1]));
    }

    function _shape() internal view returns (uint32[] memory s) {
        s = new uint32[](1);
        s[0] = uint32(size);
    }

    function _header(uint256 i) internal view returns (bytes memory) {
        TensorMeta[] memory inMeta = new TensorMeta[](1);
        inMeta[0] = TensorMeta(dtype, 0, 0, _shape());
        uint32[] memory ins = new uint32[](1);
        ins[0] = uint32(i);
        NodeHeader memory h = NodeHeader({
            op: 16,
            inputs: ins,
            output: uint32(i + 1),
            inputMeta: inMeta,
            outputMeta: TensorMeta(dtype, 0, 0, _shape()),
            attrKeys: new bytes32[](0),
            attrsFlat: new int256[](0),
            params: new ParamMeta[](0)
        });
        return abi.encode(h);
    }

    function _words(bytes memory b) internal pure returns (bytes32[] memory w) {
        uint256 n = (b.length + 31) / 32;
        if (n == 0) n = 1;
        w = new bytes32[](n);
        for (uint256 i; i < n; ++i) {
            bytes32 x;
            for (uint256 k; k < 32 && 32 * i + k < b.length; ++k) {
                x |= bytes32(b[32 * i + k]) >> (8 * k);
            }
            w[i] = x;
        }
    }

    function _tensorRoot(bytes memory b) internal view returns (bytes32) {
        return C.tensorRoot(dtype, _shape(), Tree.root(Tree.build(_words(b))));
    }

    function _traceRoot(bytes32[] storage roots) internal view returns (bytes32) {
        return ProofLib.listRoot(3, roots.length, ProofLib.rootOfWords(roots));
    }

    function _paddedWords(bytes memory b) internal pure returns (bytes32[] memory p) {
        bytes32[] memory w = _words(b);
        uint256 n = uint256(1) << ProofLib.depthOf(w.length);
        p = new bytes32[](n);
        for (uint256 i; i < w.length; ++i) {
            p[i] = w[i];
        }
    }

    // ------------------------------------------------------------------ moves

    function _open() internal returns (uint256 gameId) {
        vm.prank(challenger);
        gameId = dg.open(keccak256("task"), claimant, challenger, _traceRoot(claimRoots), modelRoot, inputHash, outputHash);
    }

    function _revealRoots(uint256 gameId) internal {
        vm.prank(claimant);
        dg.revealRoots(gameId, claimRoots, 1, 1);
    }

    function _nodeProof(uint256 nodeIndex) internal view returns (NodeProof memory p) {
        bytes32[] memory commitments = new bytes32[](nodeCount);
        for (uint256 i; i < nodeCount; ++i) {
            commitments[i] = keccak256(abi.encodePacked(uint8(4), keccak256(headers[i]), ProofLib.ZERO_LEAF));
        }
        p.index = nodeIndex;
        p.count = nodeCount;
        p.header = headers[nodeIndex];
        p.paramRoots = new bytes32[](0);
        p.siblings = Tree.proof(Tree.build(commitments), nodeIndex);
    }

    function _traceProof(uint256 id) internal view returns (bytes32[] memory) {
        return Tree.proof(Tree.build(claimRoots), id);
    }

    function _disputeTensor(uint256 gameId, uint256 t) internal {
        NodeProof memory np = _nodeProof(t - 1);
        bytes32[] memory sib = _traceProof(t);
        vm.prank(challenger);
        dg.disputeTensor(gameId, t, claimRoots[t], sib, np);
    }

    /// @dev The 2^s descendants of node (height, position) of a tensor's tree: leaf words at the last level.
    function _children(bytes memory data, uint256 height, uint256 position, uint256 levels)
        internal
        pure
        returns (bytes32[] memory c)
    {
        uint256 k = uint256(1) << levels;
        c = new bytes32[](k);
        uint256 lower = height - levels;
        if (lower == 0) {
            bytes32[] memory w = _paddedWords(data);
            for (uint256 i; i < k; ++i) {
                c[i] = w[(position << levels) + i];
            }
        } else {
            bytes32[][] memory lv = Tree.build(_words(data));
            for (uint256 i; i < k; ++i) {
                c[i] = lv[lower][(position << levels) + i];
            }
        }
    }

    function _levelsNow(uint256 gameId) internal view returns (uint256 height, uint256 position, uint256 levels) {
        DisputeGame.Game memory g = dg.game(gameId);
        height = g.levelsLeft;
        position = g.position;
        uint256 s = dg.levelsPerMove();
        levels = height < s ? height : s;
    }

    function _revealTensor(uint256 gameId) internal {
        DisputeGame.Game memory g = dg.game(gameId);
        (uint256 height,, uint256 levels) = _levelsNow(gameId);
        bytes memory data = claimed[g.tensorId];
        bytes32[] memory c = _children(data, height, 0, levels);
        bytes32 dataRoot = Tree.root(Tree.build(_words(data)));
        vm.prank(claimant);
        dg.revealTensor(gameId, dtype, _shape(), dataRoot, c);
    }

    /// @dev The children revealed last (claimant's) and the honest ones at the same place.
    function _lastChildren(uint256 gameId) internal view returns (bytes32[] memory mine, bytes32[] memory truth) {
        DisputeGame.Game memory g = dg.game(gameId);
        uint256 levels = g.pendingLevels;
        mine = _children(claimed[g.tensorId], g.levelsLeft, g.position, levels);
        truth = _children(honest[g.tensorId], g.levelsLeft, g.position, levels);
    }

    /// @dev Challenger's pick: the first child that differs from the honest tree (else `fallbackIndex`).
    function _pick(uint256 gameId, uint256 fallbackIndex) internal {
        (bytes32[] memory mine, bytes32[] memory truth) = _lastChildren(gameId);
        uint256 i = fallbackIndex % mine.length;
        for (uint256 k; k < mine.length; ++k) {
            if (mine[k] != truth[k]) {
                i = k;
                break;
            }
        }
        vm.prank(challenger);
        dg.pick(gameId, mine, i);
    }

    function _bisect(uint256 gameId) internal {
        DisputeGame.Game memory g = dg.game(gameId);
        (uint256 height, uint256 position, uint256 levels) = _levelsNow(gameId);
        bytes32[] memory c = _children(claimed[g.tensorId], height, position, levels);
        vm.prank(claimant);
        dg.bisect(gameId, c);
    }

    /// @dev The challenger's leaf choice: first differing word and element (else the fallbacks, clamped to a real
    /// element) and a one-step proof for it.
    function _leafChoice(uint256 gameId, uint256 fallbackWord, uint256 fallbackElement)
        internal
        view
        returns (DisputeGame.LeafChoice memory leaf, uint256 e)
    {
        DisputeGame.Game memory g = dg.game(gameId);
        (bytes32[] memory mine, bytes32[] memory truth) = _lastChildren(gameId);
        uint256 perWord = 32 / _es();
        leaf.words = mine;
        leaf.pick = fallbackWord % mine.length;
        leaf.elementInWord = fallbackElement % perWord;
        for (uint256 k; k < mine.length; ++k) {
            if (mine[k] != truth[k]) {
                leaf.pick = k;
                for (uint256 j; j < perWord; ++j) {
                    if (C.decodeElement(mine[k], dtype, j) != C.decodeElement(truth[k], dtype, j)) {
                        leaf.elementInWord = j;
                        break;
                    }
                }
                break;
            }
        }
        uint256 w = (uint256(g.position) << g.pendingLevels) | leaf.pick;
        e = w * perWord + leaf.elementInWord;
    }

    function _step(uint256 gameId, uint256 e)
        internal
        view
        returns (OneStep memory step, DisputeGame.InputRoots memory ins)
    {
        DisputeGame.Game memory g = dg.game(gameId);
        step.node = _nodeProof(g.nodeIndex);
        step.inputs = new WordsProof[](0);
        step.params = new WordsProof[](0);
        step.outputIndex = e;
        ins.roots = new bytes32[](1);
        ins.roots[0] = claimRoots[g.tensorId - 1];
        ins.siblings = new bytes32[][](1);
        ins.siblings[0] = _traceProof(g.tensorId - 1);
    }

    function _oneStep(uint256 gameId, uint256 fallbackWord, uint256 fallbackElement) internal {
        (DisputeGame.LeafChoice memory leaf, uint256 e) = _leafChoice(gameId, fallbackWord, fallbackElement);
        (OneStep memory step, DisputeGame.InputRoots memory ins) = _step(gameId, e);
        vm.prank(challenger);
        dg.oneStep(gameId, leaf, step, ins);
    }

    /// @dev Plays the whole bisection after revealTensor; returns the number of transactions it took.
    function _bisectAll(uint256 gameId, uint256 fallbackSeed) internal returns (uint256 txs) {
        while (dg.game(gameId).phase == DisputeGame.Phase.AwaitPick) {
            _pick(gameId, fallbackSeed);
            _bisect(gameId);
            txs += 2;
        }
    }

    function _phase(uint256 gameId) internal view returns (DisputeGame.Phase) {
        return dg.game(gameId).phase;
    }

    function _stateHash(uint256 gameId) internal view returns (bytes32) {
        return keccak256(
            abi.encode(dg.game(gameId), token.balanceOf(address(dg)), dg.credit(claimant), dg.credit(challenger))
        );
    }

    function _log2ceil(uint256 x) internal pure returns (uint256) {
        return ProofLib.depthOf(x);
    }
}
