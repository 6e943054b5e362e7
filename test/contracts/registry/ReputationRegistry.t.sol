// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IERC721Errors} from "@openzeppelin/contracts/interfaces/draft-IERC6093.sol";
import {Test} from "../utils/Test.sol";
import {IdentityRegistry} from "../../../contracts/registry/IdentityRegistry.sol";
import {ReputationRegistry} from "../../../contracts/registry/ReputationRegistry.sol";

contract ReputationRegistryTest is Test {
    IdentityRegistry internal identity;
    ReputationRegistry internal rep;
    address internal market = makeAddr("market");
    address internal alice = makeAddr("alice");
    address internal bob = makeAddr("bob");
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
        vm.startPrank(market);
        vm.expectRevert(abi.encodeWithSelector(ReputationRegistry.ReputationInvalidDecimals.selector, 19));
        rep.giveFeedback(agent, 1, 19, "", "", "", "", bytes32(0));
        vm.expectRevert(abi.encodeWithSelector(IERC721Errors.ERC721NonexistentToken.selector, 99));
        rep.giveFeedback(99, 1, 0, "", "", "", "", bytes32(0));
        vm.expectRevert(abi.encodeWithSelector(ReputationRegistry.ReputationTagTooLong.selector, 32));
        rep.giveFeedback(agent, 1, 0, "0123456789012345678901234567890x", "", "", "", bytes32(0));
        vm.stopPrank();
    }

    function _market() internal view returns (address[] memory m) {
        m = new address[](1);
        m[0] = market;
    }

    function test_getSummary_filters() public {
        _give(1, "task", "finalized");
        _give(1, "task", "finalized");
        _give(-1, "task", "expired");
        _give(1, "dispute", "won");
        (uint64 c, int128 avg, uint8 dec) = rep.getSummary(agent, _market(), "task", "finalized");
        assertEq(c, 2, "t/f count");
        assertEq(int256(avg), 1e18, "t/f avg");
        assertEq(dec, 18, "decimals");
        (c, avg,) = rep.getSummary(agent, _market(), "task", "");
        assertEq(c, 3, "task count");
        assertEq(int256(avg), int256(1e18) / 3, "task avg");
        (c, avg,) = rep.getSummary(agent, _market(), "", "");
        assertEq(c, 4, "all");
        assertEq(int256(avg), 0.5e18, "all avg");
        // (any tag1, tag2): aggregated too.
        (c, avg,) = rep.getSummary(agent, _market(), "", "won");
        assertEq(c, 1, "any/won count");
        assertEq(int256(avg), 1e18, "any/won avg");
        (c,,) = rep.getSummary(agent, _market(), "", "finalized");
        assertEq(c, 2, "any/finalized count");
        address[] memory clients = new address[](2);
        clients[0] = market;
        clients[1] = bob;
        (c,,) = rep.getSummary(agent, clients, "", "");
        assertEq(c, 4, "explicit clients");
    }

    function test_getSummary_decimalsNormalised() public {
        vm.prank(market);
        rep.giveFeedback(agent, 150, 2, "q", "", "", "", bytes32(0)); // 1.50
        (, int128 avg,) = rep.getSummary(agent, _market(), "q", "");
        assertEq(int256(avg), 1.5e18, "normalised");
    }

    function test_getSummary_reverts() public {
        address[] memory many = new address[](17);
        vm.expectRevert(abi.encodeWithSelector(ReputationRegistry.ReputationTooManyClients.selector, 17, 16));
        rep.getSummary(agent, many, "", "");
        // ERC-8004: clientAddresses MUST be non-empty.
        vm.expectRevert(ReputationRegistry.ReputationEmptyClients.selector);
        rep.getSummary(agent, new address[](0), "", "");
    }

    function test_anyClientGivesFeedback_butNotTheOwnerOrOperator() public {
        vm.prank(bob);
        assertEq(rep.giveFeedback(agent, 87, 0, "starred", "", "https://a.example", "ipfs://f", bytes32(0)), 1, "bob #1");
        assertEq(rep.getLastIndex(agent, bob), 1, "bob last");
        vm.expectRevert(abi.encodeWithSelector(ReputationRegistry.ReputationSelfFeedback.selector, alice, agent));
        vm.prank(alice);
        rep.giveFeedback(agent, 100, 0, "starred", "", "", "", bytes32(0));
        address op = makeAddr("operator");
        vm.prank(alice);
        identity.setApprovalForAll(op, true);
        vm.expectRevert(abi.encodeWithSelector(ReputationRegistry.ReputationSelfFeedback.selector, op, agent));
        vm.prank(op);
        rep.giveFeedback(agent, 100, 0, "starred", "", "", "", bytes32(0));
        address[] memory cl = rep.getClients(agent);
        assertEq(cl.length, 1, "one client");
        assertEq(cl[0], bob, "bob");
    }

    /// Attack: an owner approves the market as its operator to make the market's negative outcome feedback revert.
    function test_attack_ownerApprovesMarket_cannotSilenceOutcomes() public {
        vm.prank(alice);
        identity.setApprovalForAll(market, true);
        _give(-1, "dispute", "lost");
        (uint64 c, int128 avg,) = rep.getSummary(agent, _market(), "dispute", "lost");
        assertEq(c, 1, "recorded");
        assertEq(int256(avg), -1e18, "negative");
    }

    /// Verified reputation = summary over [market]: Sybil clients' praise does not move it.
    function test_sybilPraise_doesNotMoveVerifiedReputation() public {
        _give(-1, "dispute", "lost");
        for (uint256 i; i < 5; ++i) {
            vm.prank(address(uint160(0x5000 + i)));
            rep.giveFeedback(agent, 1, 0, "dispute", "lost", "", "", bytes32(0));
        }
        (uint64 c, int128 avg,) = rep.getSummary(agent, _market(), "", "");
        assertEq(c, 1, "market only");
        assertEq(int256(avg), -1e18, "still negative");
        assertEq(rep.getClients(agent).length, 6, "six clients");
    }

    function test_revokeFeedback() public {
        vm.startPrank(bob);
        rep.giveFeedback(agent, 10, 0, "starred", "x", "", "", bytes32(0));
        rep.giveFeedback(agent, 90, 0, "starred", "y", "", "", bytes32(0));
        vm.expectEmit(address(rep));
        emit ReputationRegistry.FeedbackRevoked(agent, bob, 1);
        rep.revokeFeedback(agent, 1);
        vm.expectRevert(abi.encodeWithSelector(ReputationRegistry.ReputationAlreadyRevoked.selector, agent, bob, 1));
        rep.revokeFeedback(agent, 1);
        vm.stopPrank();
        address[] memory b = new address[](1);
        b[0] = bob;
        (uint64 c, int128 avg,) = rep.getSummary(agent, b, "starred", "");
        assertEq(c, 1, "one left");
        assertEq(int256(avg), 90e18, "avg of the rest");
        (c,,) = rep.getSummary(agent, b, "", "x");
        assertEq(c, 0, "revoked left the (any, x) aggregate");
        (c,,) = rep.getSummary(agent, b, "starred", "x");
        assertEq(c, 0, "and the exact one");
        (,,,, bool revoked) = rep.readFeedback(agent, bob, 1);
        assertTrue(revoked, "flag");
        // A client revokes only its own: the market has no feedback #1 of bob's.
        vm.expectRevert(abi.encodeWithSelector(ReputationRegistry.ReputationIndexOutOfBounds.selector, agent, market, 1));
        vm.prank(market);
        rep.revokeFeedback(agent, 1);
    }

    function test_readAllFeedback() public {
        _give(1, "task", "finalized");
        _give(-1, "task", "expired");
        vm.startPrank(bob);
        rep.giveFeedback(agent, 50, 1, "starred", "", "", "", bytes32(0));
        rep.giveFeedback(agent, 70, 0, "task", "finalized", "", "", bytes32(0));
        rep.revokeFeedback(agent, 2);
        vm.stopPrank();
        (address[] memory cl, uint64[] memory idx, int128[] memory v, uint8[] memory d, string[] memory t1,, bool[] memory rv) =
            rep.readAllFeedback(agent, new address[](0), "", "", false);
        assertEq(cl.length, 3, "3 live");
        assertEq(cl[2], bob, "bob's last");
        assertEq(idx[2], 1, "index");
        assertEq(int256(v[2]), 50, "value");
        assertEq(d[2], 1, "decimals");
        assertEq(t1[2], "starred", "tag1");
        assertFalse(rv[2], "live");
        (cl,,,,,, rv) = rep.readAllFeedback(agent, new address[](0), "task", "finalized", true);
        assertEq(cl.length, 2, "both task/finalized incl. revoked");
        assertTrue(rv[1], "bob's revoked");
        (cl,,,,,,) = rep.readAllFeedback(agent, _market(), "", "", false);
        assertEq(cl.length, 2, "market only");
    }

    function test_getResponseCount() public {
        _give(-1, "dispute", "lost");
        _give(-1, "task", "expired");
        vm.prank(alice);
        rep.appendResponse(agent, market, 1, "ipfs://r1", bytes32(0));
        vm.prank(alice);
        rep.appendResponse(agent, market, 1, "ipfs://r2", bytes32(0));
        vm.prank(bob);
        rep.appendResponse(agent, market, 2, "ipfs://r3", bytes32(0));
        address[] memory none = new address[](0);
        address[] memory a = new address[](1);
        a[0] = alice;
        assertEq(rep.getResponseCount(agent, market, 1, none), 2, "feedback 1");
        assertEq(rep.getResponseCount(agent, market, 2, a), 0, "alice on 2");
        assertEq(rep.getResponseCount(agent, market, 0, none), 3, "all of market's");
        assertEq(rep.getResponseCount(agent, address(0), 0, a), 2, "alice overall");
        assertEq(rep.getResponseCount(agent, address(0), 0, none), 3, "agent overall");
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
