// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @title TEST-ONLY verifier for the escrow/payment property test (tests/market/).
/// @notice NOT a Groth16 verifier.  It accepts a proof iff keccak256(proof words, public inputs)
/// was put on its allow-list by the test, so the test decides which submissions are "valid"
/// without paying py-evm's pure-Python pairing cost on hundreds of actions.  The end-to-end
/// tests use the real generated verifier and real proofs.  Fixed to N = 4 public inputs.
contract AllowListTestVerifier {
    uint256 internal constant N = 4;
    mapping(bytes32 => bool) public allowed;

    function allow(bytes32 digest) external {
        allowed[digest] = true;
    }

    function digestOf(uint256[8] memory proof, uint256[N] memory input) public pure returns (bytes32) {
        return keccak256(abi.encodePacked(proof, input));
    }

    function verifyProof(
        uint256[2] calldata a,
        uint256[2][2] calldata b,
        uint256[2] calldata c,
        uint256[N] calldata input
    ) public view returns (bool) {
        uint256[8] memory p = [a[0], a[1], b[0][0], b[0][1], b[1][0], b[1][1], c[0], c[1]];
        return allowed[digestOf(p, input)];
    }

    function verifyBatch(uint256[] calldata proofs, uint256[] calldata inputs) external view returns (bool) {
        uint256 k = proofs.length / 8;
        if (k == 0 || proofs.length != k * 8 || inputs.length != k * N) return false;
        for (uint256 j = 0; j < k; ++j) {
            uint256[8] memory p;
            uint256[N] memory x;
            for (uint256 i = 0; i < 8; ++i) p[i] = proofs[j * 8 + i];
            for (uint256 i = 0; i < N; ++i) x[i] = inputs[j * N + i];
            if (!allowed[digestOf(p, x)]) return false;
        }
        return true;
    }
}
