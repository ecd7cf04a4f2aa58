// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IBatchVerifier} from "./IBatchVerifier.sol";

/// @title OmniLytics+ gradient market with batched Groth16 verification ("rollup").
/// @notice A model owner (MO) opens a task: the rule's generated verifier, a reward per accepted
/// gradient, a fee per accepted gradient for the submitting server, a server set, a deadline and
/// an escrow.  Registered servers submit batches of k proofs; every proof carries its data
/// owner's (DO) address as a public input (index `ownerIndex`).  The batch is checked with one
/// randomised multi-pairing (`verifyBatch`); if that fails each eligible proof is checked alone,
/// so valid proofs are still credited and invalid ones earn nothing.  Each DO is credited at most
/// once per task.  Payments are pulled with `withdraw`.  After the deadline the MO reclaims
/// exactly the unspent escrow.
///
/// Aggregate binding (optional per task, see docs/market.md): each server first commits to a
/// hash of the shares it holds; when all have committed the contract fixes the challenge `rho`
/// (keccak of the commitments and the previous block hash, mod r).  Every proof must then carry
/// `rho` at `rhoIndex` and exposes the fingerprint f_j = sum_i g_ji * rho^i mod r at `fpIndex`;
/// the contract keeps `fpSum` = sum of f_j over credited proofs, which the MO compares with the
/// aggregate it reconstructs off-chain.
contract Market {
    /// BN254 scalar field order.
    uint256 internal constant R =
        21888242871839275222246405745257275088548364400416034343698204186575808495617;
    /// Marks an unused public-input index (no aggregate binding).
    uint32 public constant NONE = type(uint32).max;

    /// Why a proof in a batch earned nothing (the `reason` of `ProofRejected`).
    enum Reject {
        BadOwner, // owner input is zero or does not fit in 160 bits
        AlreadyPaid, // this DO was already credited in this task (also: twice in one batch)
        PinnedMismatch, // a public input the MO fixed has another value
        WrongChallenge, // the rho input is not the task's challenge
        InvalidProof, // the Groth16 check failed
        EscrowExhausted // not enough escrow left for reward + fee
    }

    struct TaskParams {
        address verifier;
        uint32 nPublic; // N: number of public inputs of the rule (outputs + inputs)
        uint32 ownerIndex; // index of the DO address among the public inputs
        uint32 rhoIndex; // index of the challenge rho, or NONE
        uint32 fpIndex; // index of the fingerprint output, or NONE
        uint64 deadline; // unix time; submissions allowed while block.timestamp <= deadline
        uint256 rewardPerGradient;
        uint256 serverFee; // paid to the submitting server per accepted gradient
        bytes32 ruleHash; // hash of the rule / verification key (informational, in events)
        address[] servers;
        uint32[] pinnedIndex; // public inputs fixed by the MO (e.g. max_norm) ...
        uint256[] pinnedValue; // ... and their values
    }

    struct Task {
        address owner;
        address verifier;
        uint64 deadline;
        uint32 nPublic;
        uint32 ownerIndex;
        uint32 rhoIndex;
        uint32 fpIndex;
        uint32 nCommitted;
        bool challengeFixed;
        bytes4 verifySelector;
        uint256 rewardPerGradient;
        uint256 serverFee;
        uint256 remaining; // escrow not yet credited to anyone
        uint256 rho;
        uint256 fpSum;
        uint256 accepted;
        bytes32 ruleHash;
        bytes32 commitAcc;
    }

    uint256 public taskCount;
    mapping(uint256 => Task) internal _tasks;
    mapping(uint256 => address[]) internal _servers;
    mapping(uint256 => uint32[]) internal _pinnedIndex;
    mapping(uint256 => uint256[]) internal _pinnedValue;
    mapping(uint256 => mapping(address => bool)) public isServer;
    mapping(uint256 => mapping(address => bytes32)) public commitmentOf;
    mapping(uint256 => mapping(address => bool)) public isPaid;
    /// Pull-payment balances (DO rewards and server fees).
    mapping(address => uint256) public balanceOf;
    /// Sum of escrow still held for tasks plus all balances (equals the contract's ether).
    uint256 public totalHeld;

    uint256 private _lock = 1;

    event TaskCreated(
        uint256 indexed taskId,
        address indexed owner,
        address verifier,
        bytes32 ruleHash,
        uint256 escrow,
        uint256 rewardPerGradient,
        uint256 serverFee,
        uint64 deadline,
        address[] servers
    );
    event EscrowAdded(uint256 indexed taskId, address indexed from, uint256 amount);
    event SharesCommitted(uint256 indexed taskId, address indexed server, bytes32 commitment);
    event ChallengeFixed(uint256 indexed taskId, uint256 rho);
    event BatchSubmitted(
        uint256 indexed taskId, address indexed server, uint256 proofs, uint256 accepted, bool batchValid
    );
    event ProofAccepted(
        uint256 indexed taskId, address indexed dataOwner, address indexed server, uint256 fingerprint
    );
    event ProofRejected(uint256 indexed taskId, address indexed dataOwner, uint256 index, Reject reason);
    event AggregateChecked(uint256 indexed taskId, bool matched);
    event Withdrawn(address indexed account, uint256 amount);
    event Reclaimed(uint256 indexed taskId, address indexed owner, uint256 amount);

    modifier nonReentrant() {
        require(_lock == 1, "Market: reentrant call");
        _lock = 2;
        _;
        _lock = 1;
    }

    // ---------------------------------------------------------------- tasks

    /// @notice Open a task; msg.value is the escrow.
    function createTask(TaskParams calldata p) external payable returns (uint256 taskId) {
        require(msg.value > 0, "Market: escrow must be positive");
        require(p.deadline > block.timestamp, "Market: deadline in the past");
        require(p.verifier.code.length > 0, "Market: verifier has no code");
        require(p.nPublic > 0 && p.ownerIndex < p.nPublic, "Market: bad owner index");
        bool binding = p.rhoIndex != NONE;
        require(binding == (p.fpIndex != NONE), "Market: rho and fingerprint go together");
        if (binding) {
            require(p.rhoIndex < p.nPublic && p.fpIndex < p.nPublic, "Market: bad binding index");
            require(
                p.rhoIndex != p.ownerIndex && p.fpIndex != p.ownerIndex && p.rhoIndex != p.fpIndex,
                "Market: overlapping indices"
            );
        }
        require(p.servers.length > 0, "Market: no servers");
        require(p.pinnedIndex.length == p.pinnedValue.length, "Market: pinned length mismatch");

        taskId = ++taskCount;
        for (uint256 i = 0; i < p.servers.length; ++i) {
            address s = p.servers[i];
            require(s != address(0) && !isServer[taskId][s], "Market: bad or duplicate server");
            isServer[taskId][s] = true;
        }
        for (uint256 i = 0; i < p.pinnedIndex.length; ++i) {
            uint32 ix = p.pinnedIndex[i];
            require(ix < p.nPublic && ix != p.ownerIndex, "Market: bad pinned index");
            require(!binding || (ix != p.rhoIndex && ix != p.fpIndex), "Market: bad pinned index");
            require(p.pinnedValue[i] < R, "Market: pinned value not < r");
        }
        _servers[taskId] = p.servers;
        _pinnedIndex[taskId] = p.pinnedIndex;
        _pinnedValue[taskId] = p.pinnedValue;

        Task storage t = _tasks[taskId];
        t.owner = msg.sender;
        t.verifier = p.verifier;
        t.deadline = p.deadline;
        t.nPublic = p.nPublic;
        t.ownerIndex = p.ownerIndex;
        t.rhoIndex = p.rhoIndex;
        t.fpIndex = p.fpIndex;
        t.verifySelector = bytes4(
            keccak256(
                abi.encodePacked(
                    "verifyProof(uint256[2],uint256[2][2],uint256[2],uint256[", _decimal(p.nPublic), "])"
                )
            )
        );
        t.rewardPerGradient = p.rewardPerGradient;
        t.serverFee = p.serverFee;
        t.remaining = msg.value;
        t.ruleHash = p.ruleHash;
        totalHeld += msg.value;
        emit TaskCreated(
            taskId, msg.sender, p.verifier, p.ruleHash, msg.value, p.rewardPerGradient, p.serverFee,
            p.deadline, p.servers
        );
    }

    /// @notice Add escrow to an open task (anyone may fund it).
    function addEscrow(uint256 taskId) external payable {
        Task storage t = _existing(taskId);
        require(block.timestamp <= t.deadline, "Market: task closed");
        require(msg.value > 0, "Market: nothing sent");
        t.remaining += msg.value;
        totalHeld += msg.value;
        emit EscrowAdded(taskId, msg.sender, msg.value);
    }

    // ---------------------------------------------------------------- aggregate binding

    /// @notice A server commits to (a hash of) the shares it holds for this task; the last
    /// commitment fixes the challenge rho.
    function commitShares(uint256 taskId, bytes32 commitment) external {
        Task storage t = _existing(taskId);
        require(t.rhoIndex != NONE, "Market: task has no aggregate binding");
        require(isServer[taskId][msg.sender], "Market: not a registered server");
        require(block.timestamp <= t.deadline, "Market: task closed");
        require(commitment != bytes32(0), "Market: empty commitment");
        require(commitmentOf[taskId][msg.sender] == bytes32(0), "Market: already committed");
        commitmentOf[taskId][msg.sender] = commitment;
        t.commitAcc = keccak256(abi.encode(t.commitAcc, msg.sender, commitment));
        t.nCommitted += 1;
        emit SharesCommitted(taskId, msg.sender, commitment);
        if (t.nCommitted == _servers[taskId].length) {
            uint256 rho =
                uint256(keccak256(abi.encode(taskId, t.commitAcc, blockhash(block.number - 1)))) % R;
            t.rho = rho;
            t.challengeFixed = true;
            emit ChallengeFixed(taskId, rho);
        }
    }

    /// @notice The MO records the outcome of its off-chain aggregate check (for the audit trail).
    function reportAggregate(uint256 taskId, bool matched) external {
        Task storage t = _existing(taskId);
        require(msg.sender == t.owner, "Market: only the task owner");
        emit AggregateChecked(taskId, matched);
    }

    // ---------------------------------------------------------------- submission

    /// @notice Submit k proofs (8 words each) with their k*N public inputs.
    /// @return accepted how many data owners were credited by this batch.
    function submitBatch(uint256 taskId, uint256[] calldata proofs, uint256[] calldata inputs)
        external
        nonReentrant
        returns (uint256 accepted)
    {
        Task storage t = _existing(taskId);
        require(isServer[taskId][msg.sender], "Market: not a registered server");
        require(block.timestamp <= t.deadline, "Market: task closed");
        require(proofs.length > 0 && proofs.length % 8 == 0, "Market: bad proofs length");
        uint256 k = proofs.length / 8;
        uint256 n = t.nPublic;
        require(inputs.length == k * n, "Market: bad inputs length");
        require(t.rhoIndex == NONE || t.challengeFixed, "Market: challenge not fixed yet");

        bool[] memory eligible = new bool[](k);
        uint256 nEligible;
        for (uint256 j = 0; j < k; ++j) {
            (bool ok, Reject why) = _precheck(taskId, t, inputs, j * n);
            if (ok) {
                eligible[j] = true;
                ++nEligible;
            } else {
                emit ProofRejected(taskId, _ownerOf(t, inputs, j * n), j, why);
            }
        }
        bool batchValid;
        if (nEligible > 1) {
            // The generated verifier returns false for every invalid proof and reverts only when
            // given too little gas (its gasleft() precheck).  A revert or an out-of-gas in the
            // verifier must therefore revert the submission: turning it into "invalid" would let
            // a low gas limit (or eth_estimateGas) reject valid proofs.
            try IBatchVerifier(t.verifier).verifyBatch(proofs, inputs) returns (bool v) {
                batchValid = v;
            } catch (bytes memory reason) {
                _bubble(reason, "Market: verifyBatch reverted");
            }
        }
        for (uint256 j = 0; j < k; ++j) {
            if (!eligible[j]) continue;
            if (!batchValid && !_verifyOne(t, proofs, inputs, j)) {
                emit ProofRejected(taskId, _ownerOf(t, inputs, j * n), j, Reject.InvalidProof);
                continue;
            }
            if (_credit(taskId, t, inputs, j)) ++accepted;
        }
        emit BatchSubmitted(taskId, msg.sender, k, accepted, batchValid);
    }

    // ---------------------------------------------------------------- payments

    /// @notice Pull everything credited to the caller.
    function withdraw() external nonReentrant returns (uint256 amount) {
        amount = balanceOf[msg.sender];
        require(amount > 0, "Market: nothing to withdraw");
        balanceOf[msg.sender] = 0;
        totalHeld -= amount;
        emit Withdrawn(msg.sender, amount);
        (bool ok,) = msg.sender.call{value: amount}("");
        require(ok, "Market: transfer failed");
    }

    /// @notice After the deadline the MO takes back exactly the escrow nobody was credited.
    function reclaim(uint256 taskId) external nonReentrant returns (uint256 amount) {
        Task storage t = _existing(taskId);
        require(msg.sender == t.owner, "Market: only the task owner");
        require(block.timestamp > t.deadline, "Market: deadline not reached");
        amount = t.remaining;
        require(amount > 0, "Market: nothing to reclaim");
        t.remaining = 0;
        totalHeld -= amount;
        emit Reclaimed(taskId, msg.sender, amount);
        (bool ok,) = msg.sender.call{value: amount}("");
        require(ok, "Market: transfer failed");
    }

    // ---------------------------------------------------------------- views

    function getTask(uint256 taskId) external view returns (Task memory) {
        return _tasks[taskId];
    }

    function serversOf(uint256 taskId) external view returns (address[] memory) {
        return _servers[taskId];
    }

    function pinnedOf(uint256 taskId) external view returns (uint32[] memory, uint256[] memory) {
        return (_pinnedIndex[taskId], _pinnedValue[taskId]);
    }

    // ---------------------------------------------------------------- internals

    function _existing(uint256 taskId) internal view returns (Task storage t) {
        t = _tasks[taskId];
        require(t.owner != address(0), "Market: no such task");
    }

    function _ownerOf(Task storage t, uint256[] calldata inputs, uint256 base)
        internal
        view
        returns (address)
    {
        uint256 v = inputs[base + t.ownerIndex];
        return v >> 160 == 0 ? address(uint160(v)) : address(0);
    }

    function _precheck(uint256 taskId, Task storage t, uint256[] calldata inputs, uint256 base)
        internal
        view
        returns (bool, Reject)
    {
        uint256 ov = inputs[base + t.ownerIndex];
        if (ov == 0 || ov >> 160 != 0) return (false, Reject.BadOwner);
        if (isPaid[taskId][address(uint160(ov))]) return (false, Reject.AlreadyPaid);
        if (t.rhoIndex != NONE && inputs[base + t.rhoIndex] != t.rho) {
            return (false, Reject.WrongChallenge);
        }
        uint32[] storage pi = _pinnedIndex[taskId];
        uint256[] storage pv = _pinnedValue[taskId];
        for (uint256 i = 0; i < pi.length; ++i) {
            if (inputs[base + pi[i]] != pv[i]) return (false, Reject.PinnedMismatch);
        }
        return (true, Reject.BadOwner);
    }

    function _verifyOne(Task storage t, uint256[] calldata proofs, uint256[] calldata inputs, uint256 j)
        internal
        view
        returns (bool)
    {
        uint256 n = t.nPublic;
        bytes memory data =
            abi.encodePacked(t.verifySelector, proofs[j * 8:(j + 1) * 8], inputs[j * n:(j + 1) * n]);
        (bool ok, bytes memory ret) = t.verifier.staticcall(data);
        if (!ok) _bubble(ret, "Market: verifyProof reverted"); // see submitBatch: never "invalid"
        return ret.length == 32 && abi.decode(ret, (bool));
    }

    /// Revert with the verifier's own revert data, or with `fallbackReason` if it gave none
    /// (e.g. it ran out of gas).
    function _bubble(bytes memory reason, string memory fallbackReason) internal pure {
        if (reason.length == 0) revert(fallbackReason);
        assembly ("memory-safe") {
            revert(add(reason, 32), mload(reason))
        }
    }

    /// Effects only (no external calls): credit DO and server for proof j.
    function _credit(uint256 taskId, Task storage t, uint256[] calldata inputs, uint256 j)
        internal
        returns (bool)
    {
        uint256 base = j * t.nPublic;
        address dataOwner = address(uint160(inputs[base + t.ownerIndex]));
        if (isPaid[taskId][dataOwner]) {
            emit ProofRejected(taskId, dataOwner, j, Reject.AlreadyPaid);
            return false;
        }
        uint256 cost = t.rewardPerGradient + t.serverFee;
        if (t.remaining < cost) {
            emit ProofRejected(taskId, dataOwner, j, Reject.EscrowExhausted);
            return false;
        }
        isPaid[taskId][dataOwner] = true;
        t.remaining -= cost;
        balanceOf[dataOwner] += t.rewardPerGradient;
        balanceOf[msg.sender] += t.serverFee;
        t.accepted += 1;
        uint256 fp;
        if (t.fpIndex != NONE) {
            fp = inputs[base + t.fpIndex];
            t.fpSum = addmod(t.fpSum, fp, R);
        }
        emit ProofAccepted(taskId, dataOwner, msg.sender, fp);
        return true;
    }

    function _decimal(uint256 v) internal pure returns (string memory) {
        if (v == 0) return "0";
        uint256 len;
        for (uint256 x = v; x != 0; x /= 10) ++len;
        bytes memory out = new bytes(len);
        for (; v != 0; v /= 10) out[--len] = bytes1(uint8(48 + v % 10));
        return string(out);
    }
}
