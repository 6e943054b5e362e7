// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {Fixture} from "./Fixture.sol";
import {Tree} from "../dispute/DisputeWorld.sol";
import {MockOneStepVerifier} from "../dispute/mocks/MockOneStepVerifier.sol";
import {TaskMarket} from "../../../contracts/market/TaskMarket.sol";
import {Staking} from "../../../contracts/staking/Staking.sol";
import {DisputeGame} from "../../../contracts/dispute/DisputeGame.sol";
import {NodeHeader, TensorMeta, ParamMeta} from "../../../contracts/verifier/VerifierTypes.sol";
import {ProofLib} from "../../../contracts/verifier/lib/ProofLib.sol";
import {DisputeCommitments as C} from "../../../contracts/dispute/DisputeCommitments.sol";
import {IDisputeResolver} from "../../../contracts/interfaces/IDisputeResolver.sol";
import {NodeProof, WordsProof, OneStep} from "../../../contracts/interfaces/IOneStepVerifier.sol";
import {IoCommitments} from "../../../contracts/libraries/IoCommitments.sol";

/// @notice Base for tests of the TaskMarket with the real DisputeGame as its resolver (docs/protocol.md §Task market): the market opens
/// the game on the challenger's behalf with the commitments it checked, the game takes the bonds, and the market
/// settles stake, fee and reputation from the game's outcome. The one-step verifier is the test double
/// (MockOneStepVerifier: it answers from the honest trace); the game, market and commitments are real.
/// Model: two Requantize nodes over i8 [SIZE] tensors; trace t0 (input) → t1 → t2 (output).
abstract contract GameFixture is Fixture {
    uint96 internal constant GAME_BOND = 5e18;
    uint64 internal constant CLOCK = 1 days;
    uint256 internal constant SIZE = 512; // 16 words, depth 4: reveal 4 → pick → reveal 4 leaf words → oneStep
    uint8 internal constant I8 = 1;

    DisputeGame internal game;
    MockOneStepVerifier internal verifier;
    uint256 internal gameModelId;
    bytes32 internal gameModelRoot;

    bytes[] internal honest;
    bytes[] internal claimed;
    bytes32[] internal honestRoots;
    bytes32[] internal claimRoots;
    bytes[] internal headers;

    function _setUpGame() internal {
        _deployWithVrt();
        _setupParties();
        verifier = new MockOneStepVerifier();
        game = new DisputeGame(address(timelock), token, verifier, GAME_BOND, CLOCK, 2);
        vm.startPrank(address(timelock));
        game.setMarket(address(market), true);
        TaskMarket.Params memory p = _defaultParams();
        p.resolver = IDisputeResolver(address(game));
        market.setParams(p);
        vm.stopPrank();
        _fund(worker, 100e18); // for its game bond (its stake is all staked)
        vm.prank(worker);
        token.approve(address(game), type(uint256).max);
        vm.prank(challenger);
        token.approve(address(game), type(uint256).max);
    }

    // ================================================================== scenario

    function _scenario(uint256 seed, bool corruptOutput) internal {
        for (uint256 t; t < 3; ++t) {
            bytes memory b;
            for (uint256 w; w < SIZE / 32; ++w) b = bytes.concat(b, keccak256(abi.encode(seed, t, w)));
            honest.push(b);
            bytes memory c = bytes.concat(b);
            if (corruptOutput && t == 2) c[300] = bytes1(uint8(c[300]) ^ 0x5a);
            claimed.push(c);
            honestRoots.push(_tensorRoot(b));
            claimRoots.push(_tensorRoot(c));
        }
        bytes32[] memory commitments = new bytes32[](2);
        for (uint256 i; i < 2; ++i) {
            bytes memory h = _header(i);
            headers.push(h);
            commitments[i] = keccak256(abi.encodePacked(uint8(4), keccak256(h), ProofLib.ZERO_LEAF));
            verifier.setReference(i, honest[i + 1]);
        }
        gameModelRoot = ProofLib.listRoot(5, 2, Tree.root(Tree.build(commitments)));
        gameModelId = models.registerModel(gameModelRoot, "ipfs://chain2", 1 << 16);
    }

    function _shape() internal pure returns (uint32[] memory s) {
        s = new uint32[](1);
        s[0] = uint32(SIZE);
    }

    function _header(uint256 i) internal pure returns (bytes memory) {
        TensorMeta[] memory inMeta = new TensorMeta[](1);
        inMeta[0] = TensorMeta(I8, 0, 0, _shape());
        uint32[] memory ins = new uint32[](1);
        ins[0] = uint32(i);
        return abi.encode(
            NodeHeader({
                op: 16,
                inputs: ins,
                output: uint32(i + 1),
                inputMeta: inMeta,
                outputMeta: TensorMeta(I8, 0, 0, _shape()),
                attrKeys: new bytes32[](0),
                attrsFlat: new int256[](0),
                params: new ParamMeta[](0)
            })
        );
    }

    function _words(bytes memory b) internal pure returns (bytes32[] memory w) {
        uint256 n = (b.length + 31) / 32;
        w = new bytes32[](n);
        for (uint256 i; i < n; ++i) {
            bytes32 x;
            for (uint256 k; k < 32 && 32 * i + k < b.length; ++k) x |= bytes32(b[32 * i + k]) >> (8 * k);
            w[i] = x;
        }
    }

    function _tensorRoot(bytes memory b) internal pure returns (bytes32) {
        return C.tensorRoot(I8, _shape(), Tree.root(Tree.build(_words(b))));
    }

    function _traceRoot(bytes32[] storage roots) internal view returns (bytes32) {
        return ProofLib.listRoot(3, roots.length, ProofLib.rootOfWords(roots));
    }

    function _postClaimCommit() internal returns (uint256 taskId) {
        vm.prank(requester);
        taskId = market.postTask(gameModelId, _tensors(honest[0]), FEE, uint64(block.timestamp + 1 hours));
        vm.prank(worker);
        market.claim(taskId, agentId);
        vm.prank(worker);
        market.commit(taskId, _tensors(claimed[2]));
    }

    function _challenge(uint256 taskId) internal returns (uint256 disputeId, uint256 gameId) {
        bytes32[] memory none = new bytes32[](0);
        bytes32 inH = _inHash(honest[0]);
        bytes32 outH = _outHash(claimed[2]);
        vm.prank(challenger);
        disputeId = market.challenge(taskId, 0, inH, none, outH, none);
        gameId = market.getDispute(disputeId).gameId;
    }

    // ================================================================== game moves

    /// @dev Who makes the challenger side's moves (default: the game's challenger).
    address internal challengerMover;

    function _challengerMover(uint256 gameId) internal view returns (address) {
        return challengerMover == address(0) ? game.game(gameId).challenger : challengerMover;
    }

    function _play(uint256 gameId) internal returns (IDisputeResolver.Outcome) {
        vm.prank(game.game(gameId).claimant);
        game.revealRoots(gameId, claimRoots, 1, 1);
        uint256 t = 2;
        for (uint256 id = 1; id < 3; ++id) {
            if (claimRoots[id] != honestRoots[id]) {
                t = id;
                break;
            }
        }
        NodeProof memory np = _nodeProof(t - 1);
        bytes32[] memory sib = Tree.proof(Tree.build(claimRoots), t);
        vm.prank(_challengerMover(gameId));
        game.disputeTensor(gameId, t, claimRoots[t], sib, np);
        _revealTensor(gameId);
        while (game.game(gameId).phase == DisputeGame.Phase.AwaitPick) {
            _pick(gameId);
            _bisect(gameId);
        }
        _oneStep(gameId);
        return game.outcome(gameId);
    }

    function _nodeProof(uint256 nodeIndex) internal view returns (NodeProof memory p) {
        bytes32[] memory commitments = new bytes32[](2);
        for (uint256 i; i < 2; ++i) {
            commitments[i] = keccak256(abi.encodePacked(uint8(4), keccak256(headers[i]), ProofLib.ZERO_LEAF));
        }
        p.index = nodeIndex;
        p.count = 2;
        p.header = headers[nodeIndex];
        p.paramRoots = new bytes32[](0);
        p.siblings = Tree.proof(Tree.build(commitments), nodeIndex);
    }

    function _children(bytes memory data, uint256 height, uint256 position, uint256 levels)
        internal
        pure
        returns (bytes32[] memory c)
    {
        uint256 k = uint256(1) << levels;
        c = new bytes32[](k);
        uint256 lower = height - levels;
        bytes32[] memory w = _words(data);
        bytes32[][] memory lv = Tree.build(w);
        for (uint256 i; i < k; ++i) {
            uint256 idx = (position << levels) + i;
            c[i] = lower == 0 ? (idx < w.length ? w[idx] : bytes32(0)) : lv[lower][idx];
        }
    }

    function _revealTensor(uint256 gameId) internal {
        DisputeGame.Game memory g = game.game(gameId);
        uint256 levels = g.levelsLeft < 2 ? g.levelsLeft : 2;
        bytes memory data = claimed[g.tensorId];
        bytes32[] memory c = _children(data, g.levelsLeft, 0, levels);
        vm.prank(game.game(gameId).claimant);
        game.revealTensor(gameId, I8, _shape(), Tree.root(Tree.build(_words(data))), c);
    }

    function _lastChildren(uint256 gameId) internal view returns (bytes32[] memory mine, bytes32[] memory truth) {
        DisputeGame.Game memory g = game.game(gameId);
        mine = _children(claimed[g.tensorId], g.levelsLeft, g.position, g.pendingLevels);
        truth = _children(honest[g.tensorId], g.levelsLeft, g.position, g.pendingLevels);
    }

    function _pick(uint256 gameId) internal {
        (bytes32[] memory mine, bytes32[] memory truth) = _lastChildren(gameId);
        uint256 i;
        for (uint256 k; k < mine.length; ++k) {
            if (mine[k] != truth[k]) {
                i = k;
                break;
            }
        }
        vm.prank(_challengerMover(gameId));
        game.pick(gameId, mine, i);
    }

    function _bisect(uint256 gameId) internal {
        DisputeGame.Game memory g = game.game(gameId);
        uint256 levels = g.levelsLeft < 2 ? g.levelsLeft : 2;
        bytes32[] memory c = _children(claimed[g.tensorId], g.levelsLeft, g.position, levels);
        vm.prank(game.game(gameId).claimant);
        game.bisect(gameId, c);
    }

    function _oneStep(uint256 gameId) internal {
        DisputeGame.Game memory g = game.game(gameId);
        (bytes32[] memory mine, bytes32[] memory truth) = _lastChildren(gameId);
        DisputeGame.LeafChoice memory leaf;
        leaf.words = mine;
        for (uint256 k; k < mine.length; ++k) {
            if (mine[k] != truth[k]) {
                leaf.pick = k;
                for (uint256 j; j < 32; ++j) {
                    if (mine[k][j] != truth[k][j]) {
                        leaf.elementInWord = j;
                        break;
                    }
                }
                break;
            }
        }
        uint256 e = (((uint256(g.position) << g.pendingLevels) | leaf.pick) << 5) + leaf.elementInWord;
        OneStep memory step;
        step.node = _nodeProof(g.nodeIndex);
        step.inputs = new WordsProof[](0);
        step.params = new WordsProof[](0);
        step.outputIndex = e;
        DisputeGame.InputRoots memory ins;
        ins.roots = new bytes32[](1);
        ins.roots[0] = claimRoots[g.tensorId - 1];
        ins.siblings = new bytes32[][](1);
        ins.siblings[0] = Tree.proof(Tree.build(claimRoots), g.tensorId - 1);
        vm.prank(_challengerMover(gameId));
        game.oneStep(gameId, leaf, step, ins);
    }
}
