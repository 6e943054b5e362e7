// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {Test} from "../utils/Test.sol";
import {ProofLib, ProofLibNotFullSubtree} from "../../../contracts/verifier/lib/ProofLib.sol";

/// @notice ProofLib's assembly Merkle roots against the plain definition (docs/protocol.md §Commitments): leaves
/// keccak256(0x00 ‖ word), nodes keccak256(0x01 ‖ l ‖ r), the tree padded to a power of two with zero words.
contract ProofLibTest is Test {
    /// @dev The definition, written the slow way: pad to 2^depth leaves of zero words, hash level by level.
    function definition(bytes32[] memory words) internal pure returns (bytes32) {
        uint256 n = words.length;
        uint256 width = 1;
        while (width < n) width <<= 1;
        bytes32[] memory h = new bytes32[](width);
        for (uint256 i; i < width; ++i) {
            h[i] = keccak256(abi.encodePacked(uint8(0), i < n ? words[i] : bytes32(0)));
        }
        for (uint256 w = width; w > 1; w >>= 1) {
            for (uint256 i; i < w / 2; ++i) {
                h[i] = keccak256(abi.encodePacked(uint8(1), h[2 * i], h[2 * i + 1]));
            }
        }
        return h[0];
    }

    function calldataRoot(bytes32[] calldata words) external pure returns (bytes32) {
        return ProofLib.rootOfWordsCalldata(words);
    }

    function hashesRoot(bytes32[] calldata hashes) external pure returns (bytes32) {
        return ProofLib.rootOfHashesCalldata(hashes);
    }

    /// @notice A full subtree's nodes (2^j of them, at height h) hash up to the subtree's root.
    function test_rootOfHashes_isTheSubtreeRoot() public view {
        for (uint256 width = 1; width <= 64; width <<= 1) {
            for (uint256 leaves = width; leaves <= 128; leaves <<= 1) {
                bytes32[] memory w = wordsOf(bytes32(leaves * 1000 + width), leaves);
                // the `width` nodes at the level holding `width` nodes
                bytes32[] memory h = new bytes32[](leaves);
                for (uint256 i; i < leaves; ++i) h[i] = keccak256(abi.encodePacked(uint8(0), w[i]));
                for (uint256 n = leaves; n > width; n >>= 1) {
                    for (uint256 i; i < n / 2; ++i) h[i] = keccak256(abi.encodePacked(uint8(1), h[2 * i], h[2 * i + 1]));
                }
                bytes32[] memory level = new bytes32[](width);
                for (uint256 i; i < width; ++i) level[i] = h[i];
                assertEq(this.hashesRoot(level), definition(w), "subtree root");
            }
        }
    }

    /// @notice A node list that is not a full subtree is refused (the fold would pad at the wrong height).
    function test_rootOfHashes_refusesAPartialSubtree() public {
        uint256[4] memory bad = [uint256(0), 3, 6, 100];
        for (uint256 k; k < bad.length; ++k) {
            vm.expectRevert(abi.encodeWithSelector(ProofLibNotFullSubtree.selector, bad[k]));
            this.hashesRoot(new bytes32[](bad[k]));
        }
    }

    /// @notice Memory Solidity allocates between two roots does not disturb either (the scratch is allocated).
    function test_roots_surviveAllocationsInBetween() public pure {
        bytes32[] memory w = wordsOf(bytes32(uint256(7)), 37);
        bytes32 a = ProofLib.rootOfWords(w);
        bytes memory junk = abi.encode(w, a);
        bytes32 b = ProofLib.rootOfWords(w);
        assertEq(a, b, "same root");
        assertEq(a, definition(w), "definition");
        assertEq(keccak256(junk), keccak256(abi.encode(w, a)), "junk untouched");
    }

    function wordsOf(bytes32 seed, uint256 n) internal pure returns (bytes32[] memory w) {
        w = new bytes32[](n);
        for (uint256 i; i < n; ++i) w[i] = keccak256(abi.encode(seed, i));
    }

    /// @notice Every length 0..140 (odd levels at every height, 105 = gpt-mid's trace) from memory and from calldata.
    function test_rootOfWords_isTheDefinition_everyLengthTo140() public view {
        for (uint256 n; n <= 140; ++n) {
            bytes32[] memory w = wordsOf(bytes32(n), n);
            bytes32 want = n == 0 ? ProofLib.ZERO_LEAF : definition(w);
            assertEq(ProofLib.rootOfWords(w), want, "memory");
            assertEq(this.calldataRoot(w), want, "calldata");
        }
    }

    /// @notice Random lengths and words; the memory after the call is still usable (scratch only past the free pointer).
    function testFuzz_rootOfWords_isTheDefinition(bytes32 seed, uint16 len) public view {
        uint256 n = uint256(len) % 600 + 1;
        bytes32[] memory w = wordsOf(seed, n);
        bytes32 want = definition(w);
        bytes32 got = ProofLib.rootOfWords(w);
        bytes32[] memory after_ = wordsOf(seed, 3);
        assertEq(got, want, "memory");
        assertEq(this.calldataRoot(w), want, "calldata");
        assertEq(after_[2], keccak256(abi.encode(seed, uint256(2))), "memory after");
        assertEq(w[n - 1], keccak256(abi.encode(seed, n - 1)), "input untouched");
    }
}
