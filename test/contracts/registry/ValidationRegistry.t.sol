// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {Test} from "../utils/Test.sol";
import {IdentityRegistry} from "../../../contracts/registry/IdentityRegistry.sol";
import {ValidationRegistry} from "../../../contracts/registry/ValidationRegistry.sol";

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
}
