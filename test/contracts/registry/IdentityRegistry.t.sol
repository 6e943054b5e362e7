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

    // ------------------------------------------------------------------ agentWallet (ERC-8004 reserved key)

    uint256 internal constant WALLET_KEY = 0xA11CE5;

    function _walletDigest(uint256 id, address wallet, address owner, uint256 deadline) internal view returns (bytes32) {
        bytes32 structHash = keccak256(abi.encode(reg.AGENT_WALLET_SET_TYPEHASH(), id, wallet, owner, deadline));
        return keccak256(abi.encodePacked("\x19\x01", reg.domainSeparator(), structHash));
    }

    function _sig(uint256 key, bytes32 digest) internal pure returns (bytes memory) {
        (uint8 v, bytes32 r, bytes32 s_) = vm.sign(key, digest);
        return abi.encodePacked(r, s_, v);
    }

    function test_agentWallet_startsAsOwner_andIsReserved() public {
        vm.expectEmit(address(reg));
        emit IdentityRegistry.MetadataSet(1, "agentWallet", "agentWallet", abi.encodePacked(alice));
        vm.prank(alice);
        uint256 id = reg.register("a");
        assertEq(reg.getAgentWallet(id), alice, "owner");
        assertEq(reg.getMetadata(id, "agentWallet"), abi.encodePacked(alice), "metadata view");
        vm.prank(alice);
        vm.expectRevert(abi.encodeWithSelector(IdentityRegistry.IdentityReservedKey.selector, "agentWallet"));
        reg.setMetadata(id, "agentWallet", abi.encodePacked(bob));
        IdentityRegistry.MetadataEntry[] memory md = new IdentityRegistry.MetadataEntry[](1);
        md[0] = IdentityRegistry.MetadataEntry("agentWallet", abi.encodePacked(bob));
        vm.expectRevert(abi.encodeWithSelector(IdentityRegistry.IdentityReservedKey.selector, "agentWallet"));
        reg.register("b", md);
        vm.expectRevert(abi.encodeWithSelector(IERC721Errors.ERC721NonexistentToken.selector, 9));
        reg.getAgentWallet(9);
    }

    function test_setAgentWallet_eoaSignature() public {
        vm.prank(alice);
        uint256 id = reg.register("a");
        address wallet = vm.addr(WALLET_KEY);
        uint256 deadline = block.timestamp + 60;
        bytes memory sig = _sig(WALLET_KEY, _walletDigest(id, wallet, alice, deadline));
        vm.expectEmit(address(reg));
        emit IdentityRegistry.MetadataSet(id, "agentWallet", "agentWallet", abi.encodePacked(wallet));
        vm.prank(alice);
        reg.setAgentWallet(id, wallet, deadline, sig);
        assertEq(reg.getAgentWallet(id), wallet, "set");
        // The same signature does not serve another agent of the same owner, nor a stranger.
        vm.prank(alice);
        uint256 other = reg.register("b");
        vm.prank(alice);
        vm.expectRevert(abi.encodeWithSelector(IdentityRegistry.IdentityInvalidWalletSignature.selector, wallet));
        reg.setAgentWallet(other, wallet, deadline, sig);
        vm.prank(bob);
        vm.expectRevert(abi.encodeWithSelector(IdentityRegistry.IdentityUnauthorized.selector, bob, id));
        reg.setAgentWallet(id, wallet, deadline, sig);
    }

    function test_setAgentWallet_rejectsBadSignaturesAndDeadlines() public {
        vm.warp(1_000_000);
        vm.prank(alice);
        uint256 id = reg.register("a");
        address wallet = vm.addr(WALLET_KEY);
        uint256 deadline = block.timestamp + 60;
        // Signed by someone else (the owner, not the wallet).
        bytes memory wrong = _sig(0xB0B, _walletDigest(id, wallet, alice, deadline));
        vm.startPrank(alice);
        vm.expectRevert(abi.encodeWithSelector(IdentityRegistry.IdentityInvalidWalletSignature.selector, wallet));
        reg.setAgentWallet(id, wallet, deadline, wrong);
        bytes memory late = _sig(WALLET_KEY, _walletDigest(id, wallet, alice, block.timestamp - 1));
        vm.expectRevert(abi.encodeWithSelector(IdentityRegistry.IdentityExpiredSignature.selector, block.timestamp - 1, block.timestamp));
        reg.setAgentWallet(id, wallet, block.timestamp - 1, late);
        uint256 far = block.timestamp + 5 minutes + 1;
        bytes memory farSig = _sig(WALLET_KEY, _walletDigest(id, wallet, alice, far));
        vm.expectRevert(abi.encodeWithSelector(IdentityRegistry.IdentityDeadlineTooFar.selector, far, block.timestamp + 5 minutes));
        reg.setAgentWallet(id, wallet, far, farSig);
        vm.expectRevert(abi.encodeWithSelector(IdentityRegistry.IdentityInvalidWallet.selector, address(0)));
        reg.setAgentWallet(id, address(0), deadline, wrong);
        vm.stopPrank();
        assertEq(reg.getAgentWallet(id), alice, "unchanged");
    }

    function test_setAgentWallet_erc1271ContractWallet() public {
        vm.prank(alice);
        uint256 id = reg.register("a");
        Wallet1271 w = new Wallet1271(vm.addr(WALLET_KEY));
        uint256 deadline = block.timestamp + 60;
        bytes memory sig = _sig(WALLET_KEY, _walletDigest(id, address(w), alice, deadline));
        vm.prank(alice);
        reg.setAgentWallet(id, address(w), deadline, sig);
        assertEq(reg.getAgentWallet(id), address(w), "contract wallet");
        // A contract wallet that does not approve the digest is refused.
        Wallet1271 other = new Wallet1271(vm.addr(0xDEAD));
        bytes memory notOthers = _sig(WALLET_KEY, _walletDigest(id, address(other), alice, deadline));
        vm.prank(alice);
        vm.expectRevert(abi.encodeWithSelector(IdentityRegistry.IdentityInvalidWalletSignature.selector, address(other)));
        reg.setAgentWallet(id, address(other), deadline, notOthers);
    }

    function test_unsetAgentWallet_andTransferClears() public {
        vm.prank(alice);
        uint256 id = reg.register("a");
        vm.prank(bob);
        vm.expectRevert(abi.encodeWithSelector(IdentityRegistry.IdentityUnauthorized.selector, bob, id));
        reg.unsetAgentWallet(id);
        vm.expectEmit(address(reg));
        emit IdentityRegistry.MetadataSet(id, "agentWallet", "agentWallet", "");
        vm.prank(alice);
        reg.unsetAgentWallet(id);
        assertEq(reg.getAgentWallet(id), address(0), "unset");
        vm.prank(alice);
        uint256 id2 = reg.register("b");
        vm.prank(alice);
        reg.transferFrom(alice, bob, id2);
        assertEq(reg.getAgentWallet(id2), address(0), "cleared on transfer");
        assertEq(reg.getMetadata(id2, "agentWallet").length, 0, "metadata cleared");
    }
}

/// Minimal ERC-1271 wallet: valid when its signer signed the digest.
contract Wallet1271 {
    address internal immutable signer;

    constructor(address signer_) {
        signer = signer_;
    }

    function isValidSignature(bytes32 digest, bytes calldata sig) external view returns (bytes4) {
        (bytes32 r, bytes32 s, uint8 v) = (bytes32(sig[0:32]), bytes32(sig[32:64]), uint8(sig[64]));
        return ecrecover(digest, v, r, s) == signer ? bytes4(0x1626ba7e) : bytes4(0xffffffff);
    }
}
