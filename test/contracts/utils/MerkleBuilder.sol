// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {PositionalMerkle} from "../../../contracts/libraries/PositionalMerkle.sol";

/// @notice Builds PositionalMerkle trees in tests (mirror of what the off-chain committer must do).
library MerkleBuilder {
    function _levelUp(bytes32[] memory nodes) private pure returns (bytes32[] memory up) {
        up = new bytes32[](nodes.length / 2);
        for (uint256 i; i < up.length; ++i) {
            up[i] = keccak256(abi.encodePacked(nodes[2 * i], nodes[2 * i + 1]));
        }
    }

    function _padded(bytes32[] memory leaves) private pure returns (bytes32[] memory nodes) {
        uint256 width = uint256(1) << PositionalMerkle.depth(leaves.length);
        nodes = new bytes32[](width);
        for (uint256 i; i < leaves.length; ++i) nodes[i] = leaves[i];
    }

    function root(bytes32[] memory leaves) internal pure returns (bytes32) {
        bytes32[] memory nodes = _padded(leaves);
        while (nodes.length > 1) nodes = _levelUp(nodes);
        return nodes[0];
    }

    function proof(bytes32[] memory leaves, uint256 index) internal pure returns (bytes32[] memory p) {
        bytes32[] memory nodes = _padded(leaves);
        p = new bytes32[](PositionalMerkle.depth(leaves.length));
        for (uint256 k; k < p.length; ++k) {
            p[k] = nodes[index ^ 1];
            nodes = _levelUp(nodes);
            index >>= 1;
        }
    }
}
