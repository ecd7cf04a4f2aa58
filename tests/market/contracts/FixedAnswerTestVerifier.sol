// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @title TEST-ONLY "verifier" a malicious model owner could name for a batch size
/// (tests/market/test_batch_attacks.py).
/// @notice NOT a verifier: it answers every call (any selector, so any `verifyProof` arity) with
/// a fixed verdict, or reverts.  mode 0: false, 1: true, 2: revert.
contract FixedAnswerTestVerifier {
    uint256 public immutable mode;

    constructor(uint256 mode_) {
        mode = mode_;
    }

    fallback(bytes calldata) external returns (bytes memory) {
        require(mode != 2, "FixedAnswer: refuses");
        return abi.encode(mode == 1);
    }
}
