// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {Test} from "../utils/Test.sol";
import {ModelRegistry} from "../../../contracts/registry/ModelRegistry.sol";

contract ModelRegistryTest is Test {
    ModelRegistry internal reg;
    address internal alice = makeAddr("alice");
    bytes32 internal constant ROOT = keccak256("root");

    function setUp() public {
        reg = new ModelRegistry();
    }

    function test_registerModel() public {
        vm.expectEmit(address(reg));
        emit ModelRegistry.ModelRegistered(1, ROOT, alice, 0x0f, "ipfs://m");
        vm.prank(alice);
        uint256 id = reg.registerModel(ROOT, "ipfs://m", 0x0f);
        ModelRegistry.Model memory m = reg.getModel(id);
        assertEq(m.modelRoot, ROOT, "root");
        assertEq(m.opsBitmap, 0x0f, "ops");
        assertEq(m.registrant, alice, "registrant");
        assertEq(m.metadataURI, "ipfs://m", "uri");
        assertEq(reg.modelRoot(id), ROOT, "modelRoot()");
        assertEq(reg.totalModels(), 1, "total");
    }

    function test_registerModel_reverts() public {
        vm.expectRevert(ModelRegistry.ModelRegistryZeroRoot.selector);
        reg.registerModel(bytes32(0), "", 1);
        vm.expectRevert(ModelRegistry.ModelRegistryNoOps.selector);
        reg.registerModel(ROOT, "", 0);
    }

    function test_setMetadataURI() public {
        vm.prank(alice);
        uint256 id = reg.registerModel(ROOT, "a", 1);
        vm.expectEmit(address(reg));
        emit ModelRegistry.ModelMetadataUpdated(id, "b");
        vm.prank(alice);
        reg.setMetadataURI(id, "b");
        assertEq(reg.getModel(id).metadataURI, "b", "uri");
    }

    function test_setMetadataURI_reverts() public {
        vm.prank(alice);
        uint256 id = reg.registerModel(ROOT, "a", 1);
        vm.expectRevert(abi.encodeWithSelector(ModelRegistry.ModelRegistryUnauthorized.selector, address(this), id));
        reg.setMetadataURI(id, "b");
        vm.expectRevert(abi.encodeWithSelector(ModelRegistry.ModelRegistryUnknownModel.selector, 2));
        reg.setMetadataURI(2, "b");
    }

    function test_views_revertUnknown() public {
        vm.expectRevert(abi.encodeWithSelector(ModelRegistry.ModelRegistryUnknownModel.selector, 3));
        reg.getModel(3);
        vm.expectRevert(abi.encodeWithSelector(ModelRegistry.ModelRegistryUnknownModel.selector, 3));
        reg.modelRoot(3);
    }
}
