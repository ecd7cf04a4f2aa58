// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @notice The part of a generated Groth16 verifier (templates/verifier_groth16.sol.j2) that the
/// market calls through an interface.  The single-proof entry point
/// `verifyProof(uint256[2],uint256[2][2],uint256[2],uint256[N])` depends on the number N of
/// public inputs, so the market calls it with a selector it derives from N (see Market.sol).
/// `proofs` holds k proofs of 8 words each: a.x, a.y, b.x_c1, b.x_c0, b.y_c1, b.y_c0, c.x, c.y;
/// `inputs` holds k*N public inputs in circom order (outputs first, then inputs).
interface IBatchVerifier {
    function verifyBatch(uint256[] calldata proofs, uint256[] calldata inputs)
        external
        view
        returns (bool);
}
