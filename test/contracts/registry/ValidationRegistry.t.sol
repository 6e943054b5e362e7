// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {Test} from "../utils/Test.sol";
import {IdentityRegistry} from "../../../contracts/registry/IdentityRegistry.sol";
import {ValidationRegistry} from "../../../contracts/registry/ValidationRegistry.sol";
import {Base64} from "@openzeppelin/contracts/utils/Base64.sol";
import {Strings} from "@openzeppelin/contracts/utils/Strings.sol";

contract ValidationRegistryTest is Test {
    IdentityRegistry internal identity;
    ValidationRegistry internal val;
    address internal market = makeAddr("market");
    address internal alice = makeAddr("alice");
    address internal validator = makeAddr("validator");
    address internal other = makeAddr("other");
    uint256 internal agent;
    bytes32 internal constant REQ = keccak256("req");

    function setUp() public {
        identity = new IdentityRegistry();
        val = new ValidationRegistry(identity);
        val.bindMarket(market);
        vm.prank(alice);
        agent = identity.register("card");
    }

    function test_validationRequest_byOwnerEmits() public {
        vm.expectEmit(address(val));
        emit ValidationRegistry.ValidationRequest(validator, agent, "ipfs://req", REQ);
        vm.prank(alice);
        val.validationRequest(validator, agent, "ipfs://req", REQ);
        (address v, uint256 a, uint8 r,, string memory tag,) = val.getValidationStatus(REQ);
        assertEq(v, validator, "validator");
        assertEq(a, agent, "agent");
        assertEq(r, 0, "no response");
        assertEq(tag, "", "tag");
        assertEq(val.getIdentityRegistry(), address(identity), "identity");
    }

    function test_validationRequest_byMarketForAnyAgent() public {
        vm.prank(market);
        val.validationRequest(market, agent, "", REQ);
        (address v,,,,,) = val.getValidationStatus(REQ);
        assertEq(v, market, "market validator");
    }

    function test_validationRequest_reverts() public {
        vm.startPrank(alice);
        vm.expectRevert(ValidationRegistry.ValidationZeroValidator.selector);
        val.validationRequest(address(0), agent, "", REQ);
        val.validationRequest(validator, agent, "", REQ);
        vm.expectRevert(abi.encodeWithSelector(ValidationRegistry.ValidationRequestExists.selector, REQ));
        val.validationRequest(validator, agent, "", REQ);
        vm.stopPrank();
        vm.prank(other);
        vm.expectRevert(abi.encodeWithSelector(ValidationRegistry.ValidationUnauthorized.selector, other, agent));
        val.validationRequest(validator, agent, "", keccak256("x"));
    }

    function test_validationResponse_andUpdate() public {
        vm.prank(alice);
        val.validationRequest(validator, agent, "", REQ);
        vm.expectEmit(address(val));
        emit ValidationRegistry.ValidationResponse(validator, agent, REQ, 80, "ipfs://ev", bytes32("e"), "zk");
        vm.prank(validator);
        val.validationResponse(REQ, 80, "ipfs://ev", bytes32("e"), "zk");
        address[] memory none = new address[](0);
        (uint64 c, uint8 avg) = val.getSummary(agent, none, "zk");
        assertEq(c, 1, "count");
        assertEq(avg, 80, "avg");
        // Update moves the aggregate instead of double counting.
        vm.prank(validator);
        val.validationResponse(REQ, 40, "", bytes32(0), "tee");
        (c,) = val.getSummary(agent, none, "zk");
        assertEq(c, 0, "old tag removed");
        (c, avg) = val.getSummary(agent, none, "");
        assertEq(c, 1, "any tag");
        assertEq(avg, 40, "updated");
        address[] memory vs = new address[](1);
        vs[0] = validator;
        (c, avg) = val.getSummary(agent, vs, "tee");
        assertEq(c, 1, "by validator");
        assertEq(avg, 40, "by validator avg");
    }

    function test_validationResponse_reverts() public {
        vm.expectRevert(abi.encodeWithSelector(ValidationRegistry.ValidationResponseOutOfRange.selector, 101));
        val.validationResponse(REQ, 101, "", bytes32(0), "");
        vm.expectRevert(abi.encodeWithSelector(ValidationRegistry.ValidationTagTooLong.selector, 32));
        val.validationResponse(REQ, 1, "", bytes32(0), "0123456789012345678901234567890x");
        vm.expectRevert(abi.encodeWithSelector(ValidationRegistry.ValidationUnknownRequest.selector, REQ));
        val.validationResponse(REQ, 1, "", bytes32(0), "");
        vm.prank(alice);
        val.validationRequest(validator, agent, "", REQ);
        vm.prank(other);
        vm.expectRevert(abi.encodeWithSelector(ValidationRegistry.ValidationNotValidator.selector, other, validator));
        val.validationResponse(REQ, 1, "", bytes32(0), "");
    }

    function test_views_revert() public {
        vm.expectRevert(abi.encodeWithSelector(ValidationRegistry.ValidationUnknownRequest.selector, REQ));
        val.getValidationStatus(REQ);
        address[] memory many = new address[](17);
        vm.expectRevert(abi.encodeWithSelector(ValidationRegistry.ValidationTooManyValidators.selector, 17, 16));
        val.getSummary(agent, many, "");
    }

    function test_getAgentValidations_andValidatorRequests_listEveryRequest() public {
        vm.prank(alice);
        uint256 agent2 = identity.register("card2");
        vm.startPrank(alice);
        val.validationRequest(validator, agent, "ipfs://a", keccak256("a"));
        val.validationRequest(other, agent, "ipfs://b", keccak256("b"));
        val.validationRequest(validator, agent2, "ipfs://c", keccak256("c"));
        vm.stopPrank();
        vm.prank(market);
        val.validationRequest(market, agent, "data:,m", keccak256("m"));

        bytes32[] memory a = val.getAgentValidations(agent);
        assertEq(a.length, 3, "agent list");
        assertEq(a[0], keccak256("a"), "eq");
        assertEq(a[1], keccak256("b"), "eq");
        assertEq(a[2], keccak256("m"), "eq");
        assertEq(val.getAgentValidations(agent2).length, 1, "agent2 list");
        bytes32[] memory v = val.getValidatorRequests(validator);
        assertEq(v.length, 2, "validator list");
        assertEq(v[0], keccak256("a"), "eq");
        assertEq(v[1], keccak256("c"), "eq");
        assertEq(val.getValidatorRequests(market)[0], keccak256("m"), "market as validator");
        assertEq(val.getValidatorRequests(makeAddr("nobody")).length, 0, "empty");
        assertEq(val.getAgentValidationCount(agent), 3, "eq");
        assertEq(val.getValidatorRequestCount(validator), 2, "eq");
        // A reverted request leaves no entry.
        vm.prank(other);
        vm.expectRevert(abi.encodeWithSelector(ValidationRegistry.ValidationUnauthorized.selector, other, agent));
        val.validationRequest(validator, agent, "", keccak256("d"));
        assertEq(val.getAgentValidationCount(agent), 3, "unchanged");
    }

    function test_pages_walkTheLists() public {
        vm.startPrank(alice);
        for (uint256 i; i < 5; ++i) {
            val.validationRequest(validator, agent, "", keccak256(abi.encode(i)));
        }
        vm.stopPrank();
        bytes32[] memory p = val.getAgentValidationsPage(agent, 1, 3);
        assertEq(p.length, 3, "middle page");
        for (uint256 i; i < 3; ++i) {
            assertEq(p[i], keccak256(abi.encode(i + 1)), "eq");
        }
        p = val.getValidatorRequestsPage(validator, 3, 10);
        assertEq(p.length, 2, "last page is short");
        assertEq(p[1], keccak256(abi.encode(uint256(4))), "eq");
        assertEq(val.getAgentValidationsPage(agent, 5, 10).length, 0, "past the end");
        assertEq(val.getAgentValidationsPage(agent, type(uint256).max, 1).length, 0, "huge offset");
        assertEq(val.getAgentValidationsPage(agent, 0, 0).length, 0, "limit 0");
        vm.expectRevert(abi.encodeWithSelector(ValidationRegistry.ValidationPageTooLarge.selector, 257, 256));
        val.getAgentValidationsPage(agent, 0, 257);
        vm.expectRevert(abi.encodeWithSelector(ValidationRegistry.ValidationPageTooLarge.selector, 257, 256));
        val.getValidatorRequestsPage(validator, 0, 257);
    }

    /// @notice Attack: anyone may name any validator, so an attacker floods a validator's list (here 600 requests
    /// from its own agent). The validator's list only grows: a page still costs at most MAX_PAGE reads, the
    /// validator's earlier requests keep their positions, and no write path reads the lists.
    function test_attack_floodedValidatorList_staysPageable() public {
        vm.prank(alice);
        val.validationRequest(validator, agent, "ipfs://honest", REQ);
        address attacker = makeAddr("attacker");
        vm.startPrank(attacker);
        uint256 own = identity.register("spam");
        for (uint256 i; i < 600; ++i) {
            val.validationRequest(validator, own, "", keccak256(abi.encode("spam", i)));
        }
        vm.stopPrank();
        assertEq(val.getValidatorRequestCount(validator), 601, "count");
        assertEq(val.getValidatorRequestsPage(validator, 0, 1)[0], REQ, "first entry kept");
        uint256 g = gasleft();
        bytes32[] memory last = val.getValidatorRequestsPage(validator, 512, 256);
        uint256 used = g - gasleft();
        assertEq(last.length, 89, "tail page");
        assertLe(used, 1_000_000, "one page stays cheap");
        // The validator still answers its honest request; the agent's own list is untouched by the flood.
        vm.prank(validator);
        val.validationResponse(REQ, 100, "", bytes32(0), "");
        assertEq(val.getAgentValidationCount(agent), 1, "victim agent list");
    }

    function test_marketValidationRequest_carriesADisputeURI_andIsTheMarketsAlone() public {
        bytes32 key = bytes32(val.MARKET_TAG()) | bytes32(uint256(7));
        string memory json = string.concat(
            '{"type":"verity-dispute","chainId":',
            Strings.toString(block.chainid),
            ',"market":"',
            Strings.toHexString(market),
            '","taskId":3,"disputeId":7}'
        );
        string memory uri = string.concat("data:application/json;base64,", Base64.encode(bytes(json)));
        assertEq(val.marketRequestURI(3, 7), uri, "uri");
        vm.expectEmit(address(val));
        emit ValidationRegistry.ValidationRequest(market, agent, uri, key);
        vm.prank(market);
        val.marketValidationRequest(agent, 3, 7, key);
        (address v, uint256 a,,,,) = val.getValidationStatus(key);
        assertEq(v, market, "validator");
        assertEq(a, agent, "agent");
        assertEq(val.getAgentValidations(agent)[0], key, "listed for the agent");
        assertEq(val.getValidatorRequests(market)[0], key, "listed for the market");
        // Attack: the agent's owner (or anyone) files in the market's name.
        bytes32 key8 = bytes32(val.MARKET_TAG()) | bytes32(uint256(8));
        vm.prank(alice);
        vm.expectRevert(abi.encodeWithSelector(ValidationRegistry.ValidationUnauthorized.selector, alice, agent));
        val.marketValidationRequest(agent, 3, 8, key8);
        // An unbound registry has no market.
        ValidationRegistry unbound = new ValidationRegistry(identity);
        vm.prank(address(0));
        vm.expectRevert(abi.encodeWithSelector(ValidationRegistry.ValidationUnauthorized.selector, address(0), agent));
        unbound.marketValidationRequest(agent, 3, 9, bytes32(uint256(9)));
    }
}
