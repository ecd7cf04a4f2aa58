// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

interface IMarketWithdraw {
    function withdraw() external returns (uint256);
}

/// @title TEST-ONLY data owner that tries to re-enter Market.withdraw from its receive hook.
contract ReentrantReceiver {
    IMarketWithdraw public immutable market;
    uint256 public attempts;
    bool public reentryBlocked;

    constructor(address market_) {
        market = IMarketWithdraw(market_);
    }

    function pull() external {
        market.withdraw();
    }

    receive() external payable {
        attempts += 1;
        if (attempts == 1) {
            try market.withdraw() {
                reentryBlocked = false;
            } catch {
                reentryBlocked = true;
            }
        }
    }
}
