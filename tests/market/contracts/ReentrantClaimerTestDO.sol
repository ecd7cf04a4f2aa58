// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

interface IMarketPayout {
    function claimReward(uint256 taskId) external returns (uint256);
    function withdraw() external returns (uint256);
}

/// @title TEST-ONLY data owner that is a contract and tries to be paid twice
/// (tests/market/test_batch_attacks.py).
/// @notice When the market pays it, it re-enters `claimReward` and `withdraw`, swallowing their
/// failure so that its own payment still goes through; `reentered` counts re-entries that paid.
contract ReentrantClaimerTestDO {
    IMarketPayout public immutable market;
    uint256 public taskId;
    uint256 public received;
    uint256 public reentered;

    constructor(address market_) {
        market = IMarketPayout(market_);
    }

    function claim(uint256 taskId_) external {
        taskId = taskId_;
        market.claimReward(taskId_);
    }

    receive() external payable {
        received += msg.value;
        try market.claimReward(taskId) {
            reentered += 1;
        } catch {}
        try market.withdraw() {
            reentered += 1;
        } catch {}
    }
}
