// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {Market} from "./Market.sol";

/// TEST-ONLY (chain audit): a model owner that is a contract and re-enters the market from its
/// receive hook (mode 1: reclaim again, mode 2: withdraw).
contract ReentrantOwner {
    Market public immutable market;
    uint256 public taskId;
    uint256 public mode;

    constructor(Market m) {
        market = m;
    }

    function open(Market.TaskParams calldata p) external payable {
        taskId = market.createTask{value: msg.value}(p);
    }

    function setMode(uint256 m) external {
        mode = m;
    }

    function doReclaim() external {
        market.reclaim(taskId);
    }

    receive() external payable {
        if (mode == 1) market.reclaim(taskId);
        else if (mode == 2) market.withdraw();
    }
}

/// TEST-ONLY: a malicious "verifier" that accepts everything.
contract YesVerifier {
    function verifyBatch(uint256[] calldata, uint256[] calldata) external pure returns (bool) {
        return true;
    }

    fallback(bytes calldata) external returns (bytes memory) {
        return abi.encode(true);
    }
}

/// TEST-ONLY: a "verifier" that always reverts.
contract RevertingVerifier {
    fallback() external {
        revert("RevertingVerifier: no");
    }
}
