// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {ERC20Permit} from "@openzeppelin/contracts/token/ERC20/extensions/ERC20Permit.sol";
import {IVotes} from "@openzeppelin/contracts/governance/utils/IVotes.sol";
import {Test} from "../utils/Test.sol";
import {VerityToken} from "../../../contracts/token/VerityToken.sol";

contract VerityTokenTest is Test {
    VerityToken internal vrt;
    uint256 internal constant OWNER_KEY = 0xA11CE;
    address internal owner;
    address internal spender = makeAddr("spender");

    function setUp() public {
        owner = vm.addr(OWNER_KEY);
        vrt = new VerityToken(owner, 1_000e18);
    }

    function test_metadataAndSupply() public view {
        assertEq(vrt.name(), "Verity", "name");
        assertEq(vrt.symbol(), "VRT", "symbol");
        assertEq(vrt.totalSupply(), 1_000e18, "supply");
        assertEq(vrt.balanceOf(owner), 1_000e18, "holder");
    }

    function test_transfer_emits() public {
        vm.expectEmit(address(vrt));
        emit IERC20.Transfer(owner, spender, 1e18);
        vm.prank(owner);
        vrt.transfer(spender, 1e18);
    }

    function _permitDigest(address s, uint256 value, uint256 nonce, uint256 deadline) internal view returns (bytes32) {
        bytes32 structHash = keccak256(
            abi.encode(
                keccak256("Permit(address owner,address spender,uint256 value,uint256 nonce,uint256 deadline)"),
                owner,
                s,
                value,
                nonce,
                deadline
            )
        );
        return keccak256(abi.encodePacked("\x19\x01", vrt.DOMAIN_SEPARATOR(), structHash));
    }

    function test_permit_setsAllowance() public {
        uint256 deadline = block.timestamp + 1 hours;
        (uint8 v, bytes32 r, bytes32 s) = vm.sign(OWNER_KEY, _permitDigest(spender, 5e18, 0, deadline));
        vm.expectEmit(address(vrt));
        emit IERC20.Approval(owner, spender, 5e18);
        vrt.permit(owner, spender, 5e18, deadline, v, r, s);
        assertEq(vrt.allowance(owner, spender), 5e18, "allowance");
        assertEq(vrt.nonces(owner), 1, "nonce");
    }

    function test_permit_revertsExpired() public {
        uint256 deadline = block.timestamp - 1;
        (uint8 v, bytes32 r, bytes32 s) = vm.sign(OWNER_KEY, _permitDigest(spender, 5e18, 0, deadline));
        vm.expectRevert(abi.encodeWithSelector(ERC20Permit.ERC2612ExpiredSignature.selector, deadline));
        vrt.permit(owner, spender, 5e18, deadline, v, r, s);
    }

    function test_permit_revertsWrongSigner() public {
        uint256 deadline = block.timestamp + 1;
        (uint8 v, bytes32 r, bytes32 s) = vm.sign(0xB0B, _permitDigest(spender, 5e18, 0, deadline));
        vm.expectRevert(
            abi.encodeWithSelector(ERC20Permit.ERC2612InvalidSigner.selector, vm.addr(0xB0B), owner)
        );
        vrt.permit(owner, spender, 5e18, deadline, v, r, s);
    }

    function test_delegate_checkpointsVotes() public {
        vm.roll(10);
        vm.expectEmit(address(vrt));
        emit IVotes.DelegateChanged(owner, address(0), owner);
        vm.prank(owner);
        vrt.delegate(owner);
        assertEq(vrt.getVotes(owner), 1_000e18, "votes now");
        vm.roll(11);
        assertEq(vrt.getPastVotes(owner, 9), 0, "no votes before delegation");
        assertEq(vrt.getPastVotes(owner, 10), 1_000e18, "votes at delegation block");
        vm.prank(owner);
        vrt.transfer(spender, 400e18);
        assertEq(vrt.getVotes(owner), 600e18, "votes follow balance");
    }
}
