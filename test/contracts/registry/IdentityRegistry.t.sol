// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IERC721Errors} from "@openzeppelin/contracts/interfaces/draft-IERC6093.sol";
import {Test} from "../utils/Test.sol";
import {IdentityRegistry} from "../../../contracts/registry/IdentityRegistry.sol";

contract IdentityRegistryTest is Test {
    IdentityRegistry internal reg;
    address internal alice = makeAddr("alice");
    address internal bob = makeAddr("bob");

    function setUp() public {
        reg = new IdentityRegistry();
    }

    function test_register_noArgs() public {
        vm.expectEmit(address(reg));
        emit IdentityRegistry.Registered(1, "", alice);
        vm.prank(alice);
        uint256 id = reg.register();
        assertEq(id, 1, "first id is 1");
        assertEq(reg.ownerOf(1), alice, "owner");
        assertEq(reg.totalAgents(), 1, "total");
    }

    function test_register_withURI() public {
        vm.expectEmit(address(reg));
        emit IdentityRegistry.Registered(1, "ipfs://card", alice);
        vm.prank(alice);
        uint256 id = reg.register("ipfs://card");
        assertEq(reg.tokenURI(id), "ipfs://card", "uri");
    }

    function test_register_withMetadata() public {
        IdentityRegistry.MetadataEntry[] memory md = new IdentityRegistry.MetadataEntry[](2);
        md[0] = IdentityRegistry.MetadataEntry("agentName", bytes("verity-worker"));
        md[1] = IdentityRegistry.MetadataEntry("modelRoot", abi.encode(keccak256("m")));
        vm.expectEmit(address(reg));
        emit IdentityRegistry.MetadataSet(1, "agentName", "agentName", bytes("verity-worker"));
        vm.prank(alice);
        uint256 id = reg.register("ipfs://card", md);
        assertEq(reg.getMetadata(id, "agentName"), bytes("verity-worker"), "md0");
        assertEq(reg.getMetadata(id, "modelRoot"), abi.encode(keccak256("m")), "md1");
    }

    function test_register_revertsTooManyEntries() public {
        IdentityRegistry.MetadataEntry[] memory md = new IdentityRegistry.MetadataEntry[](17);
        vm.expectRevert(abi.encodeWithSelector(IdentityRegistry.IdentityTooManyMetadataEntries.selector, 17, 16));
        reg.register("x", md);
    }

    function test_setAgentURI_ownerOrOperator() public {
        vm.prank(alice);
        uint256 id = reg.register("a");
        vm.expectEmit(address(reg));
        emit IdentityRegistry.URIUpdated(id, "b", alice);
        vm.prank(alice);
        reg.setAgentURI(id, "b");
        assertEq(reg.tokenURI(id), "b", "owner set");
        vm.prank(alice);
        reg.setApprovalForAll(bob, true);
        vm.prank(bob);
        reg.setAgentURI(id, "c");
        assertEq(reg.tokenURI(id), "c", "operator set");
    }

    function test_setAgentURI_revertsStranger() public {
        vm.prank(alice);
        uint256 id = reg.register("a");
        vm.prank(bob);
        vm.expectRevert(abi.encodeWithSelector(IdentityRegistry.IdentityUnauthorized.selector, bob, id));
        reg.setAgentURI(id, "b");
    }

    function test_setAgentURI_revertsUnknown() public {
        vm.expectRevert(abi.encodeWithSelector(IERC721Errors.ERC721NonexistentToken.selector, 5));
        reg.setAgentURI(5, "b");
    }

    function test_setMetadata_andRevert() public {
        vm.prank(alice);
        uint256 id = reg.register();
        vm.expectEmit(address(reg));
        emit IdentityRegistry.MetadataSet(id, "k", "k", hex"01");
        vm.prank(alice);
        reg.setMetadata(id, "k", hex"01");
        assertEq(reg.getMetadata(id, "k"), hex"01", "value");
        vm.prank(bob);
        vm.expectRevert(abi.encodeWithSelector(IdentityRegistry.IdentityUnauthorized.selector, bob, id));
        reg.setMetadata(id, "k", hex"02");
    }

    function test_isAuthorized() public {
        vm.prank(alice);
        uint256 id = reg.register();
        assertTrue(reg.isAuthorized(alice, id), "owner");
        assertFalse(reg.isAuthorized(bob, id), "stranger");
        vm.prank(alice);
        reg.approve(bob, id);
        assertTrue(reg.isAuthorized(bob, id), "approved");
        vm.expectRevert(abi.encodeWithSelector(IERC721Errors.ERC721NonexistentToken.selector, 9));
        reg.isAuthorized(bob, 9);
    }
}
