// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IERC721Errors} from "@openzeppelin/contracts/interfaces/draft-IERC6093.sol";
import {Test} from "../utils/Test.sol";
import {IdentityRegistry} from "../../../contracts/registry/IdentityRegistry.sol";
import {ReputationRegistry} from "../../../contracts/registry/ReputationRegistry.sol";
import {MarketBinding} from "../../../contracts/common/MarketBinding.sol";

contract ReputationRegistryTest is Test {
    IdentityRegistry internal identity;
    ReputationRegistry internal rep;
    address internal market = makeAddr("market");
    address internal alice = makeAddr("alice");
    uint256 internal agent;

    function setUp() public {
        identity = new IdentityRegistry();
        rep = new ReputationRegistry(identity);
        rep.bindMarket(market);
        vm.prank(alice);
        agent = identity.register("card");
    }

    function _give(int128 v, string memory t1, string memory t2) internal returns (uint64) {
        vm.prank(market);
        return rep.giveFeedback(agent, v, 0, t1, t2, "", "", bytes32(0));
    }

    function test_giveFeedback_storesAndEmits() public {
        vm.expectEmit(address(rep));
        emit ReputationRegistry.NewFeedback(agent, market, 1, 1, 0, "task", "task", "finalized", "", "", bytes32("k"));
        vm.prank(market);
        uint64 idx = rep.giveFeedback(agent, 1, 0, "task", "finalized", "", "", bytes32("k"));
        assertEq(idx, 1, "index");
        (int128 v, uint8 d, string memory t1, string memory t2, bool revoked) = rep.readFeedback(agent, market, 1);
        assertEq(int256(v), 1, "value");
        assertEq(d, 0, "decimals");
        assertEq(t1, "task", "tag1");
        assertEq(t2, "finalized", "tag2");
        assertFalse(revoked, "revoked");
        assertEq(rep.getLastIndex(agent, market), 1, "last");
        assertEq(rep.getClients(agent).length, 1, "clients");
        assertEq(rep.getIdentityRegistry(), address(identity), "identity");
    }

    function test_giveFeedback_reverts() public {
        vm.prank(alice);
        vm.expectRevert(abi.encodeWithSelector(MarketBinding.MarketBindingNotMarket.selector, alice));
        rep.giveFeedback(agent, 1, 0, "", "", "", "", bytes32(0));
        vm.startPrank(market);
        vm.expectRevert(abi.encodeWithSelector(ReputationRegistry.ReputationInvalidDecimals.selector, 19));
        rep.giveFeedback(agent, 1, 19, "", "", "", "", bytes32(0));
        vm.expectRevert(abi.encodeWithSelector(IERC721Errors.ERC721NonexistentToken.selector, 99));
        rep.giveFeedback(99, 1, 0, "", "", "", "", bytes32(0));
        vm.expectRevert(abi.encodeWithSelector(ReputationRegistry.ReputationTagTooLong.selector, 32));
        rep.giveFeedback(agent, 1, 0, "0123456789012345678901234567890x", "", "", "", bytes32(0));
        vm.stopPrank();
    }

    function test_getSummary_filters() public {
        _give(1, "task", "finalized");
        _give(1, "task", "finalized");
        _give(-1, "task", "expired");
        _give(1, "dispute", "won");
        address[] memory none = new address[](0);
        (uint64 c, int128 avg, uint8 dec) = rep.getSummary(agent, none, "task", "finalized");
        assertEq(c, 2, "t/f count");
        assertEq(int256(avg), 1e18, "t/f avg");
        assertEq(dec, 18, "decimals");
        (c, avg,) = rep.getSummary(agent, none, "task", "");
        assertEq(c, 3, "task count");
        assertEq(int256(avg), int256(1e18) / 3, "task avg");
        (c, avg,) = rep.getSummary(agent, none, "", "");
        assertEq(c, 4, "all");
        assertEq(int256(avg), 0.5e18, "all avg");
        address[] memory clients = new address[](2);
        clients[0] = market;
        clients[1] = alice;
        (c,,) = rep.getSummary(agent, clients, "", "");
        assertEq(c, 4, "explicit clients");
    }

    function test_getSummary_decimalsNormalised() public {
        vm.prank(market);
        rep.giveFeedback(agent, 150, 2, "q", "", "", "", bytes32(0)); // 1.50
        address[] memory none = new address[](0);
        (, int128 avg,) = rep.getSummary(agent, none, "q", "");
        assertEq(int256(avg), 1.5e18, "normalised");
    }

    function test_getSummary_reverts() public {
        address[] memory many = new address[](17);
        vm.expectRevert(abi.encodeWithSelector(ReputationRegistry.ReputationTooManyClients.selector, 17, 16));
        rep.getSummary(agent, many, "", "");
        address[] memory none = new address[](0);
        vm.expectRevert(ReputationRegistry.ReputationUnsupportedFilter.selector);
        rep.getSummary(agent, none, "", "won");
    }

    function test_readFeedback_revertsOutOfBounds() public {
        vm.expectRevert(abi.encodeWithSelector(ReputationRegistry.ReputationIndexOutOfBounds.selector, agent, market, 1));
        rep.readFeedback(agent, market, 1);
        assertEq(rep.getClients(agent).length, 0, "no clients");
    }

    function test_appendResponse() public {
        _give(-1, "dispute", "lost");
        vm.expectEmit(address(rep));
        emit ReputationRegistry.ResponseAppended(agent, market, 1, alice, "ipfs://rebuttal", bytes32("h"));
        vm.prank(alice);
        rep.appendResponse(agent, market, 1, "ipfs://rebuttal", bytes32("h"));
        vm.expectRevert(ReputationRegistry.ReputationEmptyResponseURI.selector);
        rep.appendResponse(agent, market, 1, "", bytes32("h"));
        vm.expectRevert(abi.encodeWithSelector(ReputationRegistry.ReputationIndexOutOfBounds.selector, agent, market, 2));
        rep.appendResponse(agent, market, 2, "x", bytes32("h"));
    }
}
