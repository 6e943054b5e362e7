// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {Fixture} from "../utils/Fixture.sol";
import {MerkleBuilder} from "../utils/MerkleBuilder.sol";
import {TaskMarket} from "../../../contracts/market/TaskMarket.sol";
import {DataAvailability} from "../../../contracts/market/DataAvailability.sol";
import {PositionalMerkle} from "../../../contracts/libraries/PositionalMerkle.sol";

/// @notice Data-availability challenges (docs/protocol.md §Data availability, attack 5) against the real TaskMarket.
/// Batch of N elements; element i's output is the i8 tensor [i, i+1] and its input the i8 tensor [100 + i].
contract DataAvailabilityTest is Fixture {
    uint32 internal constant N = 8;
    uint128 internal constant DA_BOND = 1e18;
    uint64 internal constant DA_WINDOW = 1 hours;

    DataAvailability internal da;

    function setUp() public {
        _deployWithVrt();
        _setupParties();
        da = new DataAvailability(address(timelock), market, DA_BOND, DA_WINDOW);
        vm.prank(address(timelock));
        market.setModules(address(0), address(da));
        _fund(stranger, 10e18);
        vm.prank(stranger);
        token.approve(address(da), type(uint256).max);
    }

    function _out(uint256 i) internal pure returns (bytes memory) {
        return abi.encodePacked(uint8(i), uint8(i + 1));
    }

    function _in(uint256 i) internal pure returns (bytes memory) {
        return abi.encodePacked(uint8(100 + i));
    }

    function _results() internal pure returns (bytes32[] memory leaves) {
        leaves = new bytes32[](N);
        for (uint256 i; i < N; ++i) {
            leaves[i] = PositionalMerkle.resultLeaf(i, _outHash(_out(i)));
        }
    }

    function _inputs() internal pure returns (bytes32[] memory leaves) {
        leaves = new bytes32[](N);
        for (uint256 i; i < N; ++i) leaves[i] = PositionalMerkle.inputLeaf(i, _inHash(_in(i)));
    }

    function _postAndClaim() internal returns (uint256 taskId) {
        bytes32 inRoot = MerkleBuilder.root(_inputs());
        vm.prank(requester);
        taskId = market.postBatchTask(modelId, inRoot, N, FEE, uint64(block.timestamp + 1 hours));
        vm.prank(worker);
        market.claim(taskId, agentId);
    }

    function _committed() internal returns (uint256 taskId) {
        taskId = _postAndClaim();
        bytes32 root = MerkleBuilder.root(_results());
        vm.prank(worker);
        market.commitBatch(taskId, root);
    }

    /// before: a batch root never had to be opened — nobody could build a challenge proof and finalize paid the
    /// withholder (no pre-fix run: the request move did not exist; docs/protocol.md said so).
    function test_attack5_withheldBatch_unopened_invalidated() public {
        uint256 taskId = _committed();
        vm.prank(stranger);
        da.requestElement(taskId, 5);
        uint64 daDeadline = da.getRequest(taskId, 5, 1).deadline;
        vm.expectRevert(abi.encodeWithSelector(DataAvailability.DaDeadline.selector, taskId, 5, daDeadline));
        da.settleUnopened(taskId, 5); // the worker still has time to open
        vm.warp(market.getTask(taskId).challengeDeadline);
        vm.expectRevert(abi.encodeWithSelector(TaskMarket.MarketOpenChecks.selector, taskId, 1));
        market.finalize(taskId); // a withheld element is never paid
        uint256 before = token.balanceOf(stranger);
        da.settleUnopened(taskId, 5);
        assertEq(uint256(market.getTask(taskId).status), uint256(TaskMarket.TaskStatus.Invalidated), "invalidated");
        assertEq(staking.accountOf(worker).staked, 1_000e18 - MIN_STAKE, "withholder slashed");
        assertEq(market.claimable(stranger), uint256(MIN_STAKE) * SLASH_BPS / 10_000, "requester gets the share");
        assertEq(token.balanceOf(stranger), before + DA_BOND, "bond back");
        assertEq(market.claimable(requester), FEE, "fee refunded");
    }

    function test_da_openedElement_paysWorker_thenChallengeableAndFinalizes() public {
        uint256 taskId = _committed();
        vm.prank(stranger);
        da.requestElement(taskId, 3);
        vm.prank(stranger);
        vm.expectRevert(abi.encodeWithSelector(DataAvailability.DaAlreadyRequested.selector, taskId, 3));
        da.requestElement(taskId, 3);
        bytes32[] memory proof = MerkleBuilder.proof(_results(), 3);
        uint256 before = token.balanceOf(worker);
        vm.expectEmit(address(da));
        emit DataAvailability.ElementOpened(taskId, 3, _outHash(_out(3)), _tensors(_out(3)));
        vm.prank(worker);
        da.openElement(taskId, 3, _tensors(_out(3)), proof);
        assertEq(token.balanceOf(worker), before + DA_BOND, "bond covers the worker's gas");
        assertEq(market.getTask(taskId).holds, 0, "hold released");
        // The opened data is exactly what a challenge needs.
        vm.prank(challenger);
        market.challenge(
            taskId,
            3,
            _inHash(_in(3)),
            MerkleBuilder.proof(_inputs(), 3),
            _outHash(_out(3)),
            proof
        );
        vm.expectRevert(abi.encodeWithSelector(DataAvailability.DaNoRequest.selector, taskId, 3));
        da.settleUnopened(taskId, 3);
    }

    function test_da_badOpening_reverts() public {
        uint256 taskId = _committed();
        vm.prank(stranger);
        da.requestElement(taskId, 2);
        bytes32[] memory proof = MerkleBuilder.proof(_results(), 2);
        vm.prank(worker);
        vm.expectRevert(abi.encodeWithSelector(DataAvailability.DaBadOpening.selector, taskId, 2, 1));
        da.openElement(taskId, 2, _tensors(_out(4)), proof);
        vm.expectRevert(abi.encodeWithSelector(DataAvailability.DaBadIndex.selector, taskId, N, N));
        vm.prank(stranger);
        da.requestElement(taskId, N);
    }

    function test_da_requestAfterWindow_reverts() public {
        uint256 taskId = _committed();
        uint64 deadline = market.getTask(taskId).challengeDeadline;
        vm.warp(deadline);
        vm.prank(stranger);
        vm.expectRevert(abi.encodeWithSelector(DataAvailability.DaWindowClosed.selector, taskId, deadline));
        da.requestElement(taskId, 1);
    }

    function test_da_inputWithheld_workerPaidNotSlashed() public {
        uint256 taskId = _postAndClaim();
        vm.prank(stranger);
        vm.expectRevert(abi.encodeWithSelector(DataAvailability.DaNotWorker.selector, stranger));
        da.requestInput(taskId, 1);
        vm.prank(worker);
        da.requestInput(taskId, 1);
        vm.warp(block.timestamp + 2 hours); // past the task deadline and the request window
        vm.expectRevert(abi.encodeWithSelector(TaskMarket.MarketCannotCancel.selector, taskId, address(this)));
        market.cancel(taskId); // no abandon penalty while the worker waits for a withheld input
        da.settleInputWithheld(taskId, 1);
        assertEq(uint256(market.getTask(taskId).status), uint256(TaskMarket.TaskStatus.Cancelled), "cancelled");
        assertEq(market.claimable(worker), FEE, "fee to the worker");
        assertEq(staking.accountOf(worker).staked, 1_000e18, "not slashed");
        assertEq(staking.accountOf(worker).locked, 0, "stake released");
    }

    function test_da_inputPublished_releasesHold() public {
        uint256 taskId = _postAndClaim();
        vm.prank(worker);
        da.requestInput(taskId, 6);
        bytes32[] memory proof = MerkleBuilder.proof(_inputs(), 6);
        vm.prank(requester);
        vm.expectRevert(abi.encodeWithSelector(DataAvailability.DaBadOpening.selector, taskId, 6, 2));
        da.publishInput(taskId, 6, _tensors(_in(5)), proof);
        vm.prank(requester);
        da.publishInput(taskId, 6, _tensors(_in(6)), proof);
        assertEq(market.getTask(taskId).holds, 0, "hold released");
        vm.prank(worker);
        vm.expectRevert(abi.encodeWithSelector(DataAvailability.DaAlreadyRequested.selector, taskId, 6));
        da.requestInput(taskId, 6); // once per element: no holding the expiry by re-requesting
        vm.warp(block.timestamp + 2 hours);
        vm.expectRevert(abi.encodeWithSelector(DataAvailability.DaNoRequest.selector, taskId, 6));
        da.settleInputWithheld(taskId, 6);
        market.cancel(taskId); // an ordinary expiry again
    }

    /// A worker that commits while its input request is open does not leave the task held forever.
    function test_da_commitWhileInputRequested_holdReleased() public {
        uint256 taskId = _postAndClaim();
        vm.prank(worker);
        da.requestInput(taskId, 2);
        bytes32 root = MerkleBuilder.root(_results());
        vm.prank(worker);
        market.commitBatch(taskId, root);
        vm.warp(block.timestamp + DA_WINDOW + 1);
        da.settleInputWithheld(taskId, 2);
        assertEq(market.getTask(taskId).holds, 0, "hold released");
        vm.warp(market.getTask(taskId).challengeDeadline);
        market.finalize(taskId);
        assertEq(uint256(market.getTask(taskId).status), uint256(TaskMarket.TaskStatus.Finalized), "finalized");
    }

    function test_da_onlyModulesHold() public {
        uint256 taskId = _committed();
        vm.expectRevert(abi.encodeWithSelector(TaskMarket.MarketNotModule.selector, address(this)));
        market.setHold(taskId, true);
        vm.expectRevert(abi.encodeWithSelector(TaskMarket.MarketNotModule.selector, address(this)));
        market.moduleInvalidate(taskId, new address[](1));
    }
}
