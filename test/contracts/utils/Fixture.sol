// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {Test} from "./Test.sol";
import {MerkleBuilder} from "./MerkleBuilder.sol";
import {TestDisputeResolver} from "../mocks/TestDisputeResolver.sol";
import {VerityToken} from "../../../contracts/token/VerityToken.sol";
import {VerityTimelock} from "../../../contracts/governance/VerityTimelock.sol";
import {VerityGovernor} from "../../../contracts/governance/VerityGovernor.sol";
import {IdentityRegistry} from "../../../contracts/registry/IdentityRegistry.sol";
import {ModelRegistry} from "../../../contracts/registry/ModelRegistry.sol";
import {ReputationRegistry} from "../../../contracts/registry/ReputationRegistry.sol";
import {ValidationRegistry} from "../../../contracts/registry/ValidationRegistry.sol";
import {Staking} from "../../../contracts/staking/Staking.sol";
import {TaskMarket} from "../../../contracts/market/TaskMarket.sol";
import {IDisputeResolver} from "../../../contracts/interfaces/IDisputeResolver.sol";
import {PositionalMerkle} from "../../../contracts/libraries/PositionalMerkle.sol";
import {IoCommitments} from "../../../contracts/libraries/IoCommitments.sol";

/// @notice Deploys the whole agent economy the way production will: governor + timelock own every parameter,
/// the deployer binds the market once and keeps no role.
abstract contract Fixture is Test {
    uint256 internal constant SUPPLY = 1_000_000_000e18;
    uint64 internal constant WINDOW = 1 days;
    uint64 internal constant UNBOND_DELAY = 7 days;
    uint128 internal constant MIN_STAKE = 100e18;
    uint16 internal constant SLASH_BPS = 5_000;
    uint16 internal constant FEE_BPS = 500;
    uint256 internal constant FEE = 20e18;
    uint256 internal constant TIMELOCK_DELAY = 1 days;

    IERC20 internal token;
    VerityToken internal vrt; // zero when a foreign token is used
    VerityTimelock internal timelock;
    VerityGovernor internal governor;
    IdentityRegistry internal identity;
    ModelRegistry internal models;
    ReputationRegistry internal reputation;
    ValidationRegistry internal validation;
    Staking internal staking;
    TaskMarket internal market;
    TestDisputeResolver internal resolver;

    address internal treasury = makeAddr("treasury");
    address internal requester = makeAddr("requester");
    address internal worker = makeAddr("worker");
    address internal challenger = makeAddr("challenger");
    address internal stranger = makeAddr("stranger");

    uint256 internal modelId;
    uint256 internal agentId;
    bytes32 internal constant MODEL_ROOT = keccak256("model");

    function _deployWithVrt() internal {
        vrt = new VerityToken(address(this), SUPPLY);
        _deploy(IERC20(address(vrt)));
    }

    function _deploy(IERC20 token_) internal {
        token = token_;
        address[] memory none = new address[](0);
        address[] memory anyone = new address[](1);
        timelock = new VerityTimelock(TIMELOCK_DELAY, none, anyone, address(this));
        if (address(vrt) != address(0)) {
            governor = new VerityGovernor(vrt, timelock, 1, 50, 1_000e18, 4);
            timelock.grantRole(timelock.PROPOSER_ROLE(), address(governor));
            timelock.grantRole(timelock.CANCELLER_ROLE(), address(governor));
        }
        timelock.renounceRole(timelock.DEFAULT_ADMIN_ROLE(), address(this));

        identity = new IdentityRegistry();
        models = new ModelRegistry();
        reputation = new ReputationRegistry(identity);
        validation = new ValidationRegistry(identity);
        staking = new Staking(token, address(timelock), UNBOND_DELAY);
        resolver = new TestDisputeResolver();
        market = new TaskMarket(
            token, identity, models, staking, reputation, validation, address(timelock), _defaultParams()
        );
        staking.bindMarket(address(market));
        reputation.bindMarket(address(market));
        validation.bindMarket(address(market));

        modelId = models.registerModel(MODEL_ROOT, "ipfs://model", 0xff);
    }

    function _defaultParams() internal view returns (TaskMarket.Params memory) {
        return TaskMarket.Params({
            challengeWindow: WINDOW,
            minStake: MIN_STAKE,
            slashChallengerBps: SLASH_BPS,
            protocolFeeBps: FEE_BPS,
            treasury: treasury,
            resolver: IDisputeResolver(address(resolver))
        });
    }

    /// @dev Gives `who` tokens; the fixture holds the supply (VRT) or mints (foreign token via `_fund` override).
    function _fund(address who, uint256 amount) internal virtual {
        token.transfer(who, amount);
    }

    function _setupWorker(address who, uint256 stakeAmount) internal returns (uint256 id) {
        _fund(who, stakeAmount);
        vm.startPrank(who);
        token.approve(address(staking), stakeAmount);
        staking.stake(stakeAmount);
        id = identity.register("ipfs://agent-card");
        vm.stopPrank();
    }

    function _setupParties() internal {
        agentId = _setupWorker(worker, 1_000e18);
        _fund(requester, 1_000_000e18);
        _fund(challenger, 1_000e18);
        vm.prank(requester);
        token.approve(address(market), type(uint256).max);
        vm.prank(challenger);
        token.approve(address(market), type(uint256).max);
    }

    function _post(bytes memory input) internal returns (uint256 taskId) {
        vm.prank(requester);
        taskId = market.postTask(modelId, _tensors(input), FEE, uint64(block.timestamp + 1 hours));
    }

    function _postClaimCommit(bytes memory input, bytes memory output)
        internal
        returns (uint256 taskId)
    {
        taskId = _post(input);
        vm.prank(worker);
        market.claim(taskId, agentId);
        vm.prank(worker);
        market.commit(taskId, _tensors(output));
    }

    function _challengeSingle(uint256 taskId, bytes memory input, bytes memory output)
        internal
        returns (uint256 disputeId)
    {
        bytes32[] memory none = new bytes32[](0);
        vm.prank(challenger);
        disputeId = market.challenge(taskId, 0, _inHash(input), none, _outHash(output), none);
    }

    // ---------------------------------------------------------------- tensors

    /// @dev One i8 tensor of shape [data.length] holding `data`.
    function _tensors(bytes memory data) internal pure returns (IoCommitments.Tensor[] memory ts) {
        uint32[] memory shape = new uint32[](1);
        shape[0] = uint32(data.length);
        ts = new IoCommitments.Tensor[](1);
        ts[0] = IoCommitments.Tensor(1, shape, data);
    }

    /// @dev The 0x06 digest of `_tensors(data)`.
    function _inHash(bytes memory data) internal pure returns (bytes32 h) {
        (h,,) = IoCommitments.digest(IoCommitments.PREFIX_INPUTS, _tensors(data));
    }

    /// @dev The 0x07 digest of `_tensors(data)`.
    function _outHash(bytes memory data) internal pure returns (bytes32 h) {
        (h,,) = IoCommitments.digest(IoCommitments.PREFIX_OUTPUTS, _tensors(data));
    }

    // ---------------------------------------------------------------- batch helpers

    function _inputLeaves(uint256 n) internal pure returns (bytes32[] memory leaves) {
        leaves = new bytes32[](n);
        for (uint256 i; i < n; ++i) leaves[i] = PositionalMerkle.inputLeaf(i, keccak256(abi.encode("in", i)));
    }

    function _resultLeaves(uint256 n) internal pure returns (bytes32[] memory leaves) {
        leaves = new bytes32[](n);
        for (uint256 i; i < n; ++i) {
            leaves[i] = PositionalMerkle.resultLeaf(i, keccak256(abi.encode("out", i)));
        }
    }

    function _postBatch(uint32 n) internal returns (uint256 taskId) {
        bytes32 inRoot = MerkleBuilder.root(_inputLeaves(n));
        vm.prank(requester);
        taskId = market.postBatchTask(modelId, inRoot, n, FEE, uint64(block.timestamp + 1 hours));
    }

    function _challengeBatch(uint256 taskId, uint32 n, uint32 index) internal returns (uint256 disputeId) {
        bytes32[] memory inProof = MerkleBuilder.proof(_inputLeaves(n), index);
        bytes32[] memory outProof = MerkleBuilder.proof(_resultLeaves(n), index);
        vm.prank(challenger);
        disputeId = market.challenge(
            taskId,
            index,
            keccak256(abi.encode("in", uint256(index))),
            inProof,
            keccak256(abi.encode("out", uint256(index))),
            outProof
        );
    }
}
