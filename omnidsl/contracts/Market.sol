// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IBatchVerifier} from "./IBatchVerifier.sol";

/// @title OmniLytics+ gradient market with batched Groth16 verification ("rollup").
/// @notice A model owner (MO) opens a task: the rule's generated verifier, a reward per accepted
/// gradient, a fee per accepted gradient for every server that delivers its aggregate share, a
/// bond each server deposits, a server set, a submission deadline, a delivery deadline and an
/// escrow.  Registered servers submit batches of k proofs, and every batch must carry a
/// signature of EVERY server of the task over (chain, market, task, proofs, inputs): an honest
/// server signs only proofs its own bound prover produced, so a proof made elsewhere is never
/// credited while one server is honest.  Every proof carries its data owner's (DO) address as a
/// public input (index `ownerIndex`).  The batch is checked with one randomised multi-pairing
/// (`verifyBatch`); if that fails each eligible proof is checked alone, so valid proofs are still
/// credited and invalid ones earn nothing.  Each DO is credited at most once per task.  After
/// submissions close, each server posts its aggregate share (encrypted to the MO) and only then
/// earns its fees and gets its bond back; a server that withholds it forfeits both to the MO.
/// Payments are pulled with `withdraw`.
///
/// Aggregate binding (optional per task, see docs/market.md): each server commits to a hash of
/// the shares it holds and to the hash of a secret seed; once every server has committed, each
/// reveals its seed and the last reveal fixes `rho` = keccak(task, commitments, XOR of the seeds)
/// mod r, which no committing party could predict while one server keeps its seed secret.  Every
/// proof must then carry `rho` at `rhoIndex` and exposes the fingerprint at `fpIndex`; the
/// contract keeps `fpSum` = sum of the fingerprints of credited proofs, which the MO compares
/// with the aggregate it reconstructs off-chain.
contract Market {
    /// BN254 scalar field order.
    uint256 internal constant R =
        21888242871839275222246405745257275088548364400416034343698204186575808495617;
    /// secp256k1 group order / 2: signatures with a larger s are refused (malleability).
    uint256 internal constant HALF_N =
        0x7fffffffffffffffffffffffffffffff5d576e7357a4501ddfe92f46681b20a0;
    /// Domain tag of a batch attestation (see `attestationDigest`).
    bytes32 public constant ATTEST_TAG = keccak256("omnidsl.market.batch/v1");
    /// Domain tag of a batch-proof attestation (see `batchProofDigest`).
    bytes32 public constant BATCH_PROOF_TAG = keccak256("omnidsl.market.batchproof/v1");
    /// Marks an unused public-input index (no aggregate binding).
    uint32 public constant NONE = type(uint32).max;
    /// `paidState` values: credited to `balanceOf` (submitBatch), credited in the task and not
    /// yet claimed (submitBatchProof: one storage slot per DO), claimed into `balanceOf`.
    uint8 internal constant PAID = 1;
    uint8 internal constant UNCLAIMED = 2;
    uint8 internal constant CLAIMED = 3;
    /// Largest batch size of a batch verifier.
    uint256 public constant MAX_BATCH = 256;

    /// Why a proof in a batch earned nothing (the `reason` of `ProofRejected`).
    enum Reject {
        BadOwner, // owner input is zero or does not fit in 160 bits
        AlreadyPaid, // this DO was already credited in this task (also: twice in one batch)
        PinnedMismatch, // a public input the MO fixed has another value
        WrongChallenge, // the rho input is not the task's challenge
        InvalidProof, // the Groth16 check failed
        EscrowExhausted // not enough escrow left for reward + fees
    }

    struct TaskParams {
        address verifier;
        uint32 nPublic; // N: number of public inputs of the rule (outputs + inputs)
        uint32 ownerIndex; // index of the DO address among the public inputs
        uint32 rhoIndex; // index of the challenge rho, or NONE
        uint32 fpIndex; // index of the fingerprint output, or NONE
        uint64 deadline; // unix time; submissions allowed while block.timestamp <= deadline
        uint64 deliverBy; // unix time > deadline; aggregate shares delivered until then
        uint256 rewardPerGradient;
        uint256 serverFee; // per accepted gradient, to EACH server that delivers its share
        uint256 serverBond; // deposited with each commitment, forfeited if the share is withheld
        bytes32 ruleHash; // hash of the rule / verification key (informational, in events)
        bytes32 ownerKey; // the MO's X25519 public key (servers encrypt their shares to it)
        address[] servers;
        uint32[] pinnedIndex; // public inputs fixed by the MO (e.g. max_norm) ...
        uint256[] pinnedValue; // ... and their values
    }

    struct Task {
        address owner;
        address verifier;
        uint64 deadline;
        uint64 deliverBy;
        uint32 nPublic;
        uint32 ownerIndex;
        uint32 rhoIndex;
        uint32 fpIndex;
        uint32 nCommitted;
        uint32 nRevealed;
        uint32 nDelivered;
        bool challengeFixed;
        bool closed; // submissions closed (by the MO, or implicitly at the deadline)
        bool settled; // the MO reclaimed
        bytes4 verifySelector;
        uint256 rewardPerGradient;
        uint256 serverFee;
        uint256 serverBond;
        uint256 remaining; // escrow not yet reserved for anyone
        uint256 rho;
        uint256 fpSum;
        uint256 accepted;
        bytes32 ruleHash;
        bytes32 ownerKey;
        bytes32 commitAcc;
        bytes32 seedXor;
    }

    uint256 public taskCount;
    mapping(uint256 => Task) internal _tasks;
    mapping(uint256 => address[]) internal _servers;
    mapping(uint256 => uint32[]) internal _pinnedIndex;
    mapping(uint256 => uint256[]) internal _pinnedValue;
    mapping(uint256 => mapping(address => bool)) public isServer;
    mapping(uint256 => mapping(address => bytes32)) public commitmentOf;
    /// keccak256(abi.encode(taskId, server, seed)) committed with the shares.
    mapping(uint256 => mapping(address => bytes32)) public seedHashOf;
    mapping(uint256 => mapping(address => bool)) public hasRevealed;
    /// keccak256 of the sealed aggregate share a server delivered (zero: not delivered).
    mapping(uint256 => mapping(address => bytes32)) public deliveredOf;
    /// 0: not credited in the task; PAID, UNCLAIMED or CLAIMED (above).  `isPaid` = non-zero.
    mapping(uint256 => mapping(address => uint8)) public paidState;
    /// The generated verifier of the rule's batch statement for k slots (submitBatchProof).
    mapping(uint256 => mapping(uint256 => address)) public batchVerifierOf;
    /// Servers whose commitment the MO audits (opens) in a task; at most N - 1 per task, so one
    /// server's shares of every DO stay closed (a server opens only if the chain names it).
    mapping(uint256 => mapping(address => bool)) public isAudited;
    mapping(uint256 => uint256) public auditCount;
    /// Pull-payment balances (DO rewards, server fees, returned bonds).
    mapping(address => uint256) public balanceOf;
    /// Sum of escrow and bonds still held for tasks plus all balances (equals the contract's ether).
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
    event SharesCommitted(uint256 indexed taskId, address indexed server, bytes32 commitment, bytes32 seedHash);
    event SeedRevealed(uint256 indexed taskId, address indexed server, bytes32 seed);
    event ChallengeFixed(uint256 indexed taskId, uint256 rho);
    event SubmissionsClosed(uint256 indexed taskId, uint256 accepted);
    event BatchSubmitted(
        uint256 indexed taskId, address indexed server, uint256 proofs, uint256 accepted, bool batchValid
    );
    event ProofAccepted(
        uint256 indexed taskId, address indexed dataOwner, address indexed server, uint256 fingerprint
    );
    event ProofRejected(uint256 indexed taskId, address indexed dataOwner, uint256 index, Reject reason);
    event BatchVerifierSet(uint256 indexed taskId, uint256 k, address verifier);
    event RewardClaimed(uint256 indexed taskId, address indexed dataOwner, uint256 amount);
    event AggregateDelivered(uint256 indexed taskId, address indexed server, bytes32 digest, uint256 paid);
    event AggregateWithheld(uint256 indexed taskId, address indexed server, uint256 forfeited);
    event AggregateChecked(uint256 indexed taskId, bool matched);
    event AuditRequested(uint256 indexed taskId, address indexed server);
    event Withdrawn(address indexed account, uint256 amount);
    event Reclaimed(uint256 indexed taskId, address indexed owner, uint256 amount);
    event ReferencePublished(uint256 indexed taskId, uint32 indexed pinIndex, bytes32 dataHash, uint256 length);

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
        require(p.deliverBy > p.deadline, "Market: delivery deadline not after the deadline");
        require(p.verifier.code.length > 0, "Market: verifier has no code");
        require(p.nPublic > 0 && p.ownerIndex < p.nPublic, "Market: bad owner index");
        require(p.ownerKey != bytes32(0), "Market: no owner key");
        bool binding = p.rhoIndex != NONE;
        require(binding == (p.fpIndex != NONE), "Market: rho and fingerprint go together");
        if (binding) {
            require(p.rhoIndex < p.nPublic && p.fpIndex < p.nPublic, "Market: bad binding index");
            require(
                p.rhoIndex != p.ownerIndex && p.fpIndex != p.ownerIndex && p.rhoIndex != p.fpIndex,
                "Market: overlapping indices"
            );
        } else {
            require(p.serverBond == 0, "Market: a bond needs aggregate binding");
        }
        require(p.servers.length > 0 && p.servers.length <= 16, "Market: 1 to 16 servers");
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
        t.deliverBy = p.deliverBy;
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
        t.serverBond = p.serverBond;
        t.remaining = msg.value;
        t.ruleHash = p.ruleHash;
        t.ownerKey = p.ownerKey;
        totalHeld += msg.value;
        emit TaskCreated(
            taskId, msg.sender, p.verifier, p.ruleHash, msg.value, p.rewardPerGradient, p.serverFee,
            p.deadline, p.servers
        );
    }

    /// @notice Add escrow to an open task (anyone may fund it).
    function addEscrow(uint256 taskId) external payable {
        Task storage t = _existing(taskId);
        require(_open(t), "Market: task closed");
        require(msg.value > 0, "Market: nothing sent");
        t.remaining += msg.value;
        totalHeld += msg.value;
        emit EscrowAdded(taskId, msg.sender, msg.value);
    }

    /// @notice The MO publishes the data behind a pinned public input, e.g. the reference vector
    /// whose Poseidon commitment the task pins: the transaction's calldata *is* the publication
    /// (data owners read it, recompute the commitment and refuse to prove on a mismatch; the pin,
    /// not this function, is what the chain enforces).  docs/market.md, "Publishing the reference".
    function publishReference(uint256 taskId, uint32 pinIndex, bytes calldata data) external {
        Task storage t = _existing(taskId);
        require(msg.sender == t.owner, "Market: only the task owner");
        require(_open(t), "Market: task closed");
        emit ReferencePublished(taskId, pinIndex, keccak256(data), data.length);
    }

    /// @notice The MO ends the submission phase early (servers may then deliver).
    function closeSubmissions(uint256 taskId) external {
        Task storage t = _existing(taskId);
        require(msg.sender == t.owner, "Market: only the task owner");
        require(_open(t), "Market: task closed");
        t.closed = true;
        emit SubmissionsClosed(taskId, t.accepted);
    }

    // ---------------------------------------------------------------- aggregate binding

    /// @notice A server commits to (a hash of) the shares it holds for this task and to the hash
    /// keccak256(abi.encode(taskId, server, seed)) of a fresh secret seed; msg.value is its bond.
    function commitShares(uint256 taskId, bytes32 commitment, bytes32 seedHash) external payable {
        Task storage t = _existing(taskId);
        require(t.rhoIndex != NONE, "Market: task has no aggregate binding");
        require(isServer[taskId][msg.sender], "Market: not a registered server");
        require(_open(t), "Market: task closed");
        require(commitment != bytes32(0) && seedHash != bytes32(0), "Market: empty commitment");
        require(commitmentOf[taskId][msg.sender] == bytes32(0), "Market: already committed");
        require(msg.value == t.serverBond, "Market: bond must equal the task's serverBond");
        commitmentOf[taskId][msg.sender] = commitment;
        seedHashOf[taskId][msg.sender] = seedHash;
        totalHeld += msg.value;
        t.commitAcc = keccak256(abi.encode(t.commitAcc, msg.sender, commitment, seedHash));
        t.nCommitted += 1;
        emit SharesCommitted(taskId, msg.sender, commitment, seedHash);
    }

    /// @notice Once every server has committed, each reveals its seed; the last reveal fixes rho.
    function revealSeed(uint256 taskId, bytes32 seed) external {
        Task storage t = _openToServer(taskId);
        require(t.nCommitted == _servers[taskId].length, "Market: not every server has committed");
        require(!hasRevealed[taskId][msg.sender], "Market: already revealed");
        require(
            keccak256(abi.encode(taskId, msg.sender, seed)) == seedHashOf[taskId][msg.sender],
            "Market: seed does not match its hash"
        );
        hasRevealed[taskId][msg.sender] = true;
        t.seedXor ^= seed;
        t.nRevealed += 1;
        emit SeedRevealed(taskId, msg.sender, seed);
        if (t.nRevealed == t.nCommitted) {
            uint256 rho = uint256(keccak256(abi.encode(taskId, t.commitAcc, t.seedXor))) % R;
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

    /// @notice The MO names a server whose commitment it audits (the server then opens its
    /// shares and salt to the MO off-chain).  Only after submissions close, each server once, and
    /// at most N - 1 servers per task: the shares of the server left closed keep every DO's
    /// vector hidden from the MO (which also learns the aggregate).
    function requestAudit(uint256 taskId, address server) external {
        Task storage t = _existing(taskId);
        require(msg.sender == t.owner, "Market: only the task owner");
        require(!_open(t), "Market: submissions still open");
        require(commitmentOf[taskId][server] != bytes32(0), "Market: server has not committed");
        require(!isAudited[taskId][server], "Market: already audited");
        require(auditCount[taskId] + 1 < _servers[taskId].length, "Market: at most N-1 audits per task");
        isAudited[taskId][server] = true;
        auditCount[taskId] += 1;
        emit AuditRequested(taskId, server);
    }

    /// @notice After submissions close, a server posts its aggregate share sealed to the MO's
    /// key (the calldata is the delivery: it stays available on-chain); it is then paid its fee
    /// for every accepted gradient and gets its bond back.
    function deliverAggregate(uint256 taskId, bytes calldata sealedShare) external {
        Task storage t = _existing(taskId);
        require(isServer[taskId][msg.sender], "Market: not a registered server");
        require(!_open(t), "Market: submissions still open");
        require(block.timestamp <= t.deliverBy, "Market: delivery deadline passed");
        require(sealedShare.length > 0, "Market: empty share");
        require(deliveredOf[taskId][msg.sender] == bytes32(0), "Market: already delivered");
        bytes32 digest = keccak256(sealedShare);
        deliveredOf[taskId][msg.sender] = digest;
        t.nDelivered += 1;
        uint256 paid = t.accepted * t.serverFee;
        if (commitmentOf[taskId][msg.sender] != bytes32(0)) paid += t.serverBond;
        balanceOf[msg.sender] += paid;
        emit AggregateDelivered(taskId, msg.sender, digest, paid);
    }

    // ---------------------------------------------------------------- submission

    /// @notice The digest every server signs (EIP-191 personal message of these 32 bytes) to
    /// attest that it produced every proof of a batch.
    function attestationDigest(uint256 taskId, uint256[] calldata proofs, uint256[] calldata inputs)
        public
        view
        returns (bytes32)
    {
        return keccak256(
            abi.encode(
                ATTEST_TAG,
                block.chainid,
                address(this),
                taskId,
                keccak256(abi.encodePacked(proofs)),
                keccak256(abi.encodePacked(inputs))
            )
        );
    }

    /// @notice Submit k proofs (8 words each) with their k*N public inputs and one 65-byte
    /// signature (r, s, v) of the attestation digest per server, in the task's server order.
    /// @return accepted how many data owners were credited by this batch.
    function submitBatch(
        uint256 taskId,
        uint256[] calldata proofs,
        uint256[] calldata inputs,
        bytes calldata signatures
    ) external nonReentrant returns (uint256 accepted) {
        Task storage t = _openToServer(taskId);
        require(proofs.length > 0 && proofs.length % 8 == 0, "Market: bad proofs length");
        require(inputs.length == (proofs.length / 8) * t.nPublic, "Market: bad inputs length");
        require(t.rhoIndex == NONE || t.challengeFixed, "Market: challenge not fixed yet");
        _checkAttestation(taskId, attestationDigest(taskId, proofs, inputs), signatures);
        accepted = _process(taskId, t, proofs, inputs);
    }

    function _process(uint256 taskId, Task storage t, uint256[] calldata proofs, uint256[] calldata inputs)
        internal
        returns (uint256 accepted)
    {
        uint256 k = proofs.length / 8;
        uint256 n = t.nPublic;
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

    // ---------------------------------------------------------------- one proof per batch

    /// @notice The MO names the generated verifier of the rule's batch statement for k slots
    /// (docs/market.md, "One proof per batch"): once per size, before any server commits (the
    /// servers see it before they bond, and check its code against the batch key before they
    /// sign a batch proof).  Needs aggregate binding and every public input other than owner and
    /// fingerprint to be rho or pinned.
    function setBatchVerifier(uint256 taskId, uint256 k, address verifier) external {
        Task storage t = _existing(taskId);
        require(msg.sender == t.owner, "Market: only the task owner");
        require(_open(t), "Market: task closed");
        require(t.nCommitted == 0, "Market: servers already committed");
        require(t.rhoIndex != NONE, "Market: batch proofs need aggregate binding");
        require(k > 0 && k <= MAX_BATCH, "Market: batch size out of range");
        require(verifier.code.length > 0, "Market: verifier has no code");
        require(batchVerifierOf[taskId][k] == address(0), "Market: batch verifier already set");
        _sharedValues(taskId, t); // reverts if a public input is neither rho nor pinned
        batchVerifierOf[taskId][k] = verifier;
        emit BatchVerifierSet(taskId, k, verifier);
    }

    /// @notice The digest every server signs (EIP-191 personal message) to attest one batch proof.
    function batchProofDigest(
        uint256 taskId,
        uint256[8] calldata proof,
        uint256[] calldata owners,
        uint256[] calldata fps
    ) public view returns (bytes32) {
        return keccak256(
            abi.encode(
                BATCH_PROOF_TAG,
                block.chainid,
                address(this),
                taskId,
                keccak256(abi.encodePacked(proof)),
                keccak256(abi.encodePacked(owners)),
                keccak256(abi.encodePacked(fps))
            )
        );
    }

    /// @notice Submit ONE proof of the batch statement for k = owners.length slots: slot j is DO
    /// owners[j] (0: padding, credits nobody, its fingerprint is not counted) with fingerprint
    /// fps[j]; rho and every pinned value come from storage.  The whole batch reverts if the
    /// proof is invalid; a slot whose DO is already paid (or bad, or beyond the escrow) earns
    /// nothing while the others are credited.  Credits go to `paidState` (one slot per DO);
    /// the DO pulls its reward with `claimReward`.
    function submitBatchProof(
        uint256 taskId,
        uint256[8] calldata proof,
        uint256[] calldata owners,
        uint256[] calldata fps,
        bytes calldata signatures
    ) external nonReentrant returns (uint256 accepted) {
        Task storage t = _openToServer(taskId);
        require(owners.length > 0 && fps.length == owners.length, "Market: bad batch lengths");
        require(batchVerifierOf[taskId][owners.length] != address(0), "Market: no batch verifier for this size");
        require(t.challengeFixed, "Market: challenge not fixed yet");
        _checkAttestation(taskId, batchProofDigest(taskId, proof, owners, fps), signatures);
        _verifyBatchProof(taskId, t, proof, owners, fps);
        accepted = _creditSlots(taskId, t, owners, fps);
        emit BatchSubmitted(taskId, msg.sender, owners.length, accepted, true);
    }

    /// Revert unless the task's batch verifier for owners.length slots accepts the proof.
    function _verifyBatchProof(
        uint256 taskId,
        Task storage t,
        uint256[8] calldata proof,
        uint256[] calldata owners,
        uint256[] calldata fps
    ) internal view {
        bytes memory data = _batchCalldata(proof, owners, fps, _sharedValues(taskId, t));
        (bool ok, bytes memory ret) = batchVerifierOf[taskId][owners.length].staticcall(data);
        if (!ok) _bubble(ret, "Market: verifyProof reverted"); // see submitBatch: never "invalid"
        require(ret.length == 32 && abi.decode(ret, (bool)), "Market: invalid batch proof");
    }

    /// `verifyProof(a, b, c, input)` calldata of the batch statement: input = fps ‖ owners ‖ shared.
    function _batchCalldata(
        uint256[8] calldata proof,
        uint256[] calldata owners,
        uint256[] calldata fps,
        uint256[] memory shared
    ) internal pure returns (bytes memory) {
        bytes4 selector = bytes4(
            keccak256(
                abi.encodePacked(
                    "verifyProof(uint256[2],uint256[2][2],uint256[2],uint256[",
                    _decimal(2 * owners.length + shared.length),
                    "])"
                )
            )
        );
        return abi.encodePacked(selector, proof, fps, owners, shared);
    }

    /// @notice Pay the caller the reward a batch proof credited to it in this task (the batch
    /// path's `withdraw`: one transaction per DO and task, checks-effects-interactions).
    function claimReward(uint256 taskId) external nonReentrant returns (uint256 amount) {
        Task storage t = _existing(taskId);
        require(paidState[taskId][msg.sender] == UNCLAIMED, "Market: no unclaimed reward in this task");
        paidState[taskId][msg.sender] = CLAIMED;
        amount = t.rewardPerGradient;
        totalHeld -= amount;
        emit RewardClaimed(taskId, msg.sender, amount);
        (bool ok,) = msg.sender.call{value: amount}("");
        require(ok, "Market: transfer failed");
    }

    /// rho and the pinned values in public-signal order, without the owner and the fingerprint:
    /// the shared public signals of the batch statement.
    function _sharedValues(uint256 taskId, Task storage t) internal view returns (uint256[] memory shared) {
        uint256 n = t.nPublic;
        uint256[] memory full = new uint256[](n);
        bool[] memory known = new bool[](n);
        full[t.rhoIndex] = t.rho;
        known[t.rhoIndex] = true;
        uint32[] storage pi = _pinnedIndex[taskId];
        uint256[] storage pv = _pinnedValue[taskId];
        for (uint256 i = 0; i < pi.length; ++i) {
            uint256 ix = pi[i];
            require(!known[ix] || full[ix] == pv[i], "Market: conflicting pinned values");
            full[ix] = pv[i];
            known[ix] = true;
        }
        shared = new uint256[](n - 2);
        uint256 m;
        for (uint256 i = 0; i < n; ++i) {
            if (i == t.fpIndex || i == t.ownerIndex) continue;
            require(known[i], "Market: a public input is neither rho nor pinned");
            shared[m++] = full[i];
        }
    }

    /// Effects only: credit every slot of a verified batch proof (padding and refused slots
    /// earn nothing and add no fingerprint); the task's totals are written once.
    function _creditSlots(uint256 taskId, Task storage t, uint256[] calldata owners, uint256[] calldata fps)
        internal
        returns (uint256 accepted)
    {
        uint256 cost = t.rewardPerGradient + t.serverFee * _servers[taskId].length;
        uint256 remaining = t.remaining;
        uint256 fpSum = t.fpSum;
        mapping(address => uint8) storage paid = paidState[taskId];
        for (uint256 j = 0; j < owners.length; ++j) {
            uint256 ov = owners[j];
            if (ov == 0) continue; // padding
            if (ov >> 160 != 0) {
                emit ProofRejected(taskId, address(0), j, Reject.BadOwner);
                continue;
            }
            address dataOwner = address(uint160(ov));
            if (paid[dataOwner] != 0) {
                emit ProofRejected(taskId, dataOwner, j, Reject.AlreadyPaid);
                continue;
            }
            if (remaining < cost) {
                emit ProofRejected(taskId, dataOwner, j, Reject.EscrowExhausted);
                continue;
            }
            paid[dataOwner] = UNCLAIMED;
            remaining -= cost;
            fpSum = addmod(fpSum, fps[j], R);
            ++accepted;
            emit ProofAccepted(taskId, dataOwner, msg.sender, fps[j]);
        }
        t.remaining = remaining;
        t.fpSum = fpSum;
        t.accepted += accepted;
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

    /// @notice After the delivery deadline the MO takes back the escrow nobody was credited, the
    /// fees of servers that withheld their aggregate share and those servers' bonds.
    function reclaim(uint256 taskId) external nonReentrant returns (uint256 amount) {
        Task storage t = _existing(taskId);
        require(msg.sender == t.owner, "Market: only the task owner");
        require(block.timestamp > t.deliverBy, "Market: delivery deadline not reached");
        require(!t.settled, "Market: already reclaimed");
        t.settled = true;
        amount = t.remaining;
        t.remaining = 0;
        address[] storage servers = _servers[taskId];
        for (uint256 i = 0; i < servers.length; ++i) {
            address s = servers[i];
            if (deliveredOf[taskId][s] != bytes32(0)) continue;
            uint256 forfeited = t.accepted * t.serverFee;
            if (commitmentOf[taskId][s] != bytes32(0)) forfeited += t.serverBond;
            amount += forfeited;
            emit AggregateWithheld(taskId, s, forfeited);
        }
        require(amount > 0, "Market: nothing to reclaim");
        totalHeld -= amount;
        emit Reclaimed(taskId, msg.sender, amount);
        (bool ok,) = msg.sender.call{value: amount}("");
        require(ok, "Market: transfer failed");
    }

    /// @notice What `reclaim` would pay the MO once the delivery deadline has passed.
    function reclaimable(uint256 taskId) external view returns (uint256 amount) {
        Task storage t = _tasks[taskId];
        if (t.settled) return 0;
        amount = t.remaining;
        address[] storage servers = _servers[taskId];
        for (uint256 i = 0; i < servers.length; ++i) {
            address s = servers[i];
            if (deliveredOf[taskId][s] != bytes32(0)) continue;
            amount += t.accepted * t.serverFee;
            if (commitmentOf[taskId][s] != bytes32(0)) amount += t.serverBond;
        }
    }

    // ---------------------------------------------------------------- views

    /// Whether `dataOwner` was credited in the task (by either submission path).
    function isPaid(uint256 taskId, address dataOwner) external view returns (bool) {
        return paidState[taskId][dataOwner] != 0;
    }

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

    /// The task, open, and the caller one of its servers (reveals and both submission paths).
    function _openToServer(uint256 taskId) internal view returns (Task storage t) {
        t = _existing(taskId);
        require(isServer[taskId][msg.sender], "Market: not a registered server");
        require(_open(t), "Market: task closed");
    }

    /// Submissions (and commitments, reveals, escrow top-ups) are open.
    function _open(Task storage t) internal view returns (bool) {
        return !t.closed && block.timestamp <= t.deadline;
    }

    /// Every server of the task signed `digest` (EIP-191), in server order, 65 bytes each.
    function _checkAttestation(uint256 taskId, bytes32 digest, bytes calldata sigs) internal view {
        address[] storage servers = _servers[taskId];
        require(sigs.length == 65 * servers.length, "Market: one signature per server required");
        bytes32 h = keccak256(abi.encodePacked("\x19Ethereum Signed Message:\n32", digest));
        for (uint256 i = 0; i < servers.length; ++i) {
            bytes32 r = bytes32(sigs[65 * i:65 * i + 32]);
            bytes32 s = bytes32(sigs[65 * i + 32:65 * i + 64]);
            uint8 v = uint8(sigs[65 * i + 64]);
            address signer = (uint256(s) <= HALF_N && (v == 27 || v == 28)) ? ecrecover(h, v, r, s) : address(0);
            if (signer == address(0) || signer != servers[i]) {
                revert(string(abi.encodePacked("Market: batch not attested by server ", _decimal(i))));
            }
        }
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
        if (paidState[taskId][address(uint160(ov))] != 0) return (false, Reject.AlreadyPaid);
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

    /// Effects only (no external calls): credit the DO for proof j and reserve the servers' fees.
    function _credit(uint256 taskId, Task storage t, uint256[] calldata inputs, uint256 j)
        internal
        returns (bool)
    {
        uint256 base = j * t.nPublic;
        address dataOwner = address(uint160(inputs[base + t.ownerIndex]));
        if (paidState[taskId][dataOwner] != 0) {
            emit ProofRejected(taskId, dataOwner, j, Reject.AlreadyPaid);
            return false;
        }
        uint256 cost = t.rewardPerGradient + t.serverFee * _servers[taskId].length;
        if (t.remaining < cost) {
            emit ProofRejected(taskId, dataOwner, j, Reject.EscrowExhausted);
            return false;
        }
        paidState[taskId][dataOwner] = PAID;
        t.remaining -= cost;
        balanceOf[dataOwner] += t.rewardPerGradient;
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
