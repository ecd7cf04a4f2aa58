// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @title The OmniLytics+ on-chain baseline: every data owner uploads its whole gradient, the
/// contract stores it and adds it into a running sum.  Used only by benchmarks/market_gas_bench.py
/// as the peer the rollup is compared against.  A 7,450-entry gradient does not fit in one
/// transaction (block gas limit), so it is uploaded in chunks, in order.
contract OnChainAggregator {
    uint256 public immutable dim;
    uint256 public contributions;
    int256[] public aggregate;
    mapping(address => mapping(uint256 => int256)) public gradientOf;
    mapping(address => uint256) public uploaded;

    event ChunkStored(address indexed dataOwner, uint256 offset, uint256 length);
    event GradientStored(address indexed dataOwner, uint256 contributions);

    constructor(uint256 dim_) {
        require(dim_ > 0, "Baseline: empty gradient");
        dim = dim_;
        // Pre-size the running sum (its first write per entry then costs like any other).
        assembly {
            sstore(aggregate.slot, dim_)
        }
    }

    /// @notice Store entries [offset, offset + values.length) of the caller's gradient and add
    /// them into the aggregate.  Chunks must arrive in order; a gradient is uploaded once.
    function submitChunk(uint256 offset, int256[] calldata values) external {
        uint256 done = uploaded[msg.sender];
        require(done < dim, "Baseline: gradient already complete");
        require(offset == done, "Baseline: chunks must arrive in order");
        require(values.length > 0 && offset + values.length <= dim, "Baseline: chunk out of range");
        mapping(uint256 => int256) storage mine = gradientOf[msg.sender];
        for (uint256 i = 0; i < values.length; ++i) {
            mine[offset + i] = values[i];
            aggregate[offset + i] += values[i];
        }
        uploaded[msg.sender] = offset + values.length;
        emit ChunkStored(msg.sender, offset, values.length);
        if (offset + values.length == dim) {
            contributions += 1;
            emit GradientStored(msg.sender, contributions);
        }
    }
}
