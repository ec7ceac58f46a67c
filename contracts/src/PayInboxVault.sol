// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {Ownable, Ownable2Step} from "@openzeppelin/contracts/access/Ownable2Step.sol";
import {IERC1271} from "@openzeppelin/contracts/interfaces/IERC1271.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {IERC20Permit} from "@openzeppelin/contracts/token/ERC20/extensions/IERC20Permit.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {Pausable} from "@openzeppelin/contracts/utils/Pausable.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";
import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {SignatureChecker} from "@openzeppelin/contracts/utils/cryptography/SignatureChecker.sol";

import {IPayInboxVault} from "./interfaces/IPayInboxVault.sol";

/// @title PayInboxVault
/// @notice Custodies USDC for Paid Inbox users and settles paid messages, one `MessagePaid` receipt each.
/// @dev Gas layout (see docs/security/contracts.md and contracts/README.md for the figures):
///      - an account's balance and nonce share one slot, so a payment touches one slot per party;
///      - `Pausable._paused`, the fee rate and the accrued fees share one slot (declaration order below puts
///        them right after `Ownable2Step._pendingOwner`), so the pause check, fee read and fee accrual of a
///        payment cost one cold slot; a batch accrues its fees once;
///      - the reentrancy guard is transient (EIP-1153) and sits only on functions that call the token.
///      Withdrawals are never pausable: balances only grow through deposits and payments, which the owner can
///      pause, so a paused vault can only pay out balances that are fully backed. The owner cannot hold funds.
contract PayInboxVault is IPayInboxVault, EIP712, Ownable2Step, Pausable, ReentrancyGuardTransient {
    using SafeERC20 for IERC20;

    /// @dev An account's balance and next payment nonce, packed in one slot.
    struct Account {
        uint128 balance;
        uint128 nonce;
    }

    // ───────────────────────────── constants ─────────────────────────────

    /// @notice Hard cap on the fee: 10%.
    uint256 public constant MAX_FEE_BPS = 1000;

    /// @dev Basis-point denominator.
    uint256 private constant _BPS = 10_000;

    /// @dev Largest balance (and so amount) an account can hold.
    uint256 private constant _MAX_BALANCE = type(uint128).max;

    /// @notice Gas each ERC-1271 check may use inside `settleBatch`, so one hostile wallet cannot starve a batch.
    uint256 public constant BATCH_ERC1271_GAS = 500_000;

    /// @notice The EIP-712 type hash of `Payment`.
    bytes32 public constant PAYMENT_TYPEHASH = keccak256(
        "Payment(address payer,address recipient,bytes32 messageId,bytes32 contentHash,uint256 amount,uint256 nonce,uint256 deadline)"
    );

    /// @dev Byte offsets inside a `settleBatchPacked` entry (layout in `IPayInboxVault.settleBatchPacked`).
    uint256 private constant _P_RECIPIENT = 20;
    uint256 private constant _P_MESSAGE_ID = 40;
    uint256 private constant _P_CONTENT_HASH = 72;
    uint256 private constant _P_AMOUNT = 104;
    uint256 private constant _P_NONCE = 120;
    uint256 private constant _P_DEADLINE = 128;
    uint256 private constant _P_CHANNEL = 133;
    uint256 private constant _P_SIG_LENGTH = 134;
    uint256 private constant _P_SIG = 136;
    /// @dev Length of an EIP-2098 compact signature.
    uint256 private constant _COMPACT_SIG_LENGTH = 64;

    // ───────────────────────────── storage ─────────────────────────────

    /// @dev The custodied token (USDC): a plain ERC-20, no fee on transfer, no callbacks.
    IERC20 private immutable _token;

    /// @dev Packs with `Pausable._paused` (and `_pendingOwner`): read and written by every payment.
    uint16 private _feeBps;

    /// @dev Fees accrued and not yet collected; packs in the same slot. 2^72 base units is ~4.7e15 USDC,
    ///      far above USDC's supply, and `collectFees` empties it.
    uint72 private _accruedFees;

    /// @dev Where collected fees are credited (a vault balance, withdrawn like any other).
    address private _feeRecipient;

    /// @dev Balance and nonce per account.
    mapping(address account => Account) private _accounts;

    // ───────────────────────────── constructor ─────────────────────────────

    /// @param token_ The ERC-20 to custody (USDC).
    /// @param initialOwner Owner (fee settings, pause); a multisig in production.
    /// @param feeRecipient_ Account credited with collected fees.
    /// @param feeBps_ Fee in basis points (default 250), at most `MAX_FEE_BPS`.
    constructor(IERC20 token_, address initialOwner, address feeRecipient_, uint256 feeBps_)
        EIP712("PayInboxVault", "1")
        Ownable(initialOwner)
    {
        if (address(token_) == address(0) || feeRecipient_ == address(0)) revert ZeroAddress();
        if (feeBps_ > MAX_FEE_BPS) revert FeeTooHigh(feeBps_, MAX_FEE_BPS);
        _token = token_;
        _feeRecipient = feeRecipient_;
        // forge-lint: disable-next-line(unsafe-typecast)
        _feeBps = uint16(feeBps_); // ≤ MAX_FEE_BPS: checked above
        emit FeeRecipientUpdated(address(0), feeRecipient_);
        emit FeeBpsUpdated(0, feeBps_);
    }

    // ───────────────────────────── deposits and withdrawals ─────────────────────────────

    /// @inheritdoc IPayInboxVault
    function deposit(uint256 amount) external whenNotPaused nonReentrant {
        _deposit(msg.sender, amount);
    }

    /// @inheritdoc IPayInboxVault
    function depositFor(address user, uint256 amount) external whenNotPaused nonReentrant {
        if (user == address(0)) revert ZeroAddress();
        _deposit(user, amount);
    }

    /// @inheritdoc IPayInboxVault
    function depositWithPermit(uint256 amount, uint256 deadline, uint8 v, bytes32 r, bytes32 s)
        external
        whenNotPaused
        nonReentrant
    {
        // A permit can be front-run (submitted by someone else first); then it reverts here but the allowance is
        // already there, so carry on and let `transferFrom` decide.
        try IERC20Permit(address(_token)).permit(msg.sender, address(this), amount, deadline, v, r, s) {} catch {}
        _deposit(msg.sender, amount);
    }

    /// @inheritdoc IPayInboxVault
    function withdraw(uint256 amount) external nonReentrant {
        _withdraw(msg.sender, amount);
    }

    /// @inheritdoc IPayInboxVault
    function withdrawTo(address to, uint256 amount) external nonReentrant {
        if (to == address(0)) revert ZeroAddress();
        _withdraw(to, amount);
    }

    // ───────────────────────────── payments ─────────────────────────────

    /// @inheritdoc IPayInboxVault
    function sendMessagePayment(
        address recipient,
        bytes32 messageId,
        bytes32 contentHash,
        uint8 channel,
        uint256 amount
    ) external whenNotPaused {
        _checkShape(msg.sender, recipient, amount, true);
        (uint256 total, uint256 fee) = _withFee(amount, _feeBps);
        Account memory from = _accounts[msg.sender];
        if (total > from.balance) revert InsufficientBalance(msg.sender, from.balance, total);
        _move(msg.sender, from, total, recipient, amount, true);
        emit MessagePaid(msg.sender, recipient, messageId, amount, fee, contentHash, from.nonce, channel);
        _accrue(fee);
    }

    /// @inheritdoc IPayInboxVault
    function payWithSig(Payment calldata payment, uint8 channel, bytes calldata signature) external whenNotPaused {
        (, uint256 fee) = _payRelayed(payment, channel, signature, _feeBps, true);
        _accrue(fee);
    }

    /// @inheritdoc IPayInboxVault
    function settleBatch(SignedPayment[] calldata payments) external whenNotPaused returns (uint256 settled) {
        uint256 n = payments.length;
        if (n == 0) revert EmptyBatch();
        uint256 feeBps_ = _feeBps;
        uint256 fees;
        for (uint256 i; i < n;) {
            SignedPayment calldata item = payments[i];
            (bytes4 reason, uint256 fee) = _payRelayed(item.payment, item.channel, item.signature, feeBps_, false);
            if (reason == bytes4(0)) {
                // Cannot overflow: each fee is under 2^125 (amount < 2^128, feeBps ≤ 1000) and n is bounded by
                // calldata size, so the sum stays far below 2^256; `settled` ≤ n.
                unchecked {
                    fees += fee;
                    ++settled;
                }
            } else {
                emit PaymentSkipped(item.payment.payer, item.payment.messageId, item.payment.nonce, reason);
            }
            // Cannot overflow: i < n.
            unchecked {
                ++i;
            }
        }
        if (fees != 0) _accrue(fees);
    }

    /// @inheritdoc IPayInboxVault
    function settleBatchPacked(bytes calldata batch) external whenNotPaused returns (uint256 settled) {
        if (batch.length == 0) revert EmptyBatch();
        uint256 feeBps_ = _feeBps;
        // Computed once per batch instead of once per payment.
        bytes32 domain = _domainSeparatorV4();
        uint256 fees;
        // Entries are addressed by absolute calldata position: no copy of the batch into memory.
        uint256 start;
        uint256 end;
        assembly ("memory-safe") {
            start := batch.offset
            end := add(start, batch.length) // cannot overflow: calldata positions are far below 2^64
        }
        for (uint256 at = start; at < end;) {
            uint256 sigLength;
            uint256 next;
            assembly ("memory-safe") {
                sigLength := shr(240, calldataload(add(at, _P_SIG_LENGTH)))
                // Cannot overflow: sigLength < 2^16 and `at` is a calldata position.
                next := add(add(at, _P_SIG), sigLength)
                if iszero(sigLength) { next := add(next, _COMPACT_SIG_LENGTH) }
            }
            // The whole entry, header included, must lie inside `batch`.
            if (next > end) revert MalformedBatch(at - start);
            (bytes4 reason, uint256 fee) = _payPacked(at, sigLength, domain, feeBps_);
            // Cannot overflow: as in `settleBatch`.
            unchecked {
                if (reason == bytes4(0)) {
                    fees += fee;
                    ++settled;
                } else {
                    _emitPackedSkipped(at, reason);
                }
            }
            at = next;
        }
        if (fees != 0) _accrue(fees);
    }

    /// @inheritdoc IPayInboxVault
    function invalidateNonces(uint256 newNonce) external {
        Account storage a = _accounts[msg.sender];
        uint256 current = a.nonce;
        // The cap keeps nonces below 2^128 for any realistic number of calls (2^64 calls would be needed).
        if (newNonce <= current || newNonce - current > type(uint64).max) {
            revert InvalidNonceIncrease(current, newNonce);
        }
        // forge-lint: disable-next-line(unsafe-typecast)
        a.nonce = uint128(newNonce); // ≤ current + 2^64 < 2^128: checked above
        emit NoncesInvalidated(msg.sender, current, newNonce);
    }

    // ───────────────────────────── fees and admin ─────────────────────────────

    /// @inheritdoc IPayInboxVault
    function collectFees() external {
        _collectFees();
    }

    /// @inheritdoc IPayInboxVault
    function setFeeBps(uint256 newFeeBps) external onlyOwner {
        if (newFeeBps > MAX_FEE_BPS) revert FeeTooHigh(newFeeBps, MAX_FEE_BPS);
        emit FeeBpsUpdated(_feeBps, newFeeBps);
        // forge-lint: disable-next-line(unsafe-typecast)
        _feeBps = uint16(newFeeBps); // ≤ MAX_FEE_BPS: checked above
    }

    /// @inheritdoc IPayInboxVault
    function setFeeRecipient(address newRecipient) external onlyOwner {
        if (newRecipient == address(0)) revert ZeroAddress();
        _collectFees();
        emit FeeRecipientUpdated(_feeRecipient, newRecipient);
        _feeRecipient = newRecipient;
    }

    /// @inheritdoc IPayInboxVault
    function pause() external onlyOwner {
        _pause();
    }

    /// @inheritdoc IPayInboxVault
    function unpause() external onlyOwner {
        _unpause();
    }

    /// @inheritdoc IPayInboxVault
    function rescueToken(address token_, address to, uint256 amount) external onlyOwner nonReentrant {
        if (token_ == address(_token)) revert CannotRescueVaultToken();
        if (to == address(0)) revert ZeroAddress();
        emit TokenRescued(token_, to, amount);
        IERC20(token_).safeTransfer(to, amount);
    }

    // ───────────────────────────── reads ─────────────────────────────

    /// @inheritdoc IPayInboxVault
    function token() external view returns (address) {
        return address(_token);
    }

    /// @inheritdoc IPayInboxVault
    function balanceOf(address account) external view returns (uint256) {
        return _accounts[account].balance;
    }

    /// @inheritdoc IPayInboxVault
    function nonces(address payer) external view returns (uint256) {
        return _accounts[payer].nonce;
    }

    /// @inheritdoc IPayInboxVault
    function accountOf(address account) external view returns (uint256 balance, uint256 nonce) {
        Account memory a = _accounts[account];
        return (a.balance, a.nonce);
    }

    /// @inheritdoc IPayInboxVault
    function feeBps() external view returns (uint256) {
        return _feeBps;
    }

    /// @inheritdoc IPayInboxVault
    function feeRecipient() external view returns (address) {
        return _feeRecipient;
    }

    /// @inheritdoc IPayInboxVault
    function accruedFees() external view returns (uint256) {
        return _accruedFees;
    }

    /// @inheritdoc IPayInboxVault
    function feeFor(uint256 amount) external view returns (uint256) {
        if (amount > _MAX_BALANCE) revert AmountTooLarge(amount, _MAX_BALANCE);
        (, uint256 fee) = _withFee(amount, _feeBps);
        return fee;
    }

    /// @inheritdoc IPayInboxVault
    function hashPayment(Payment calldata payment) external view returns (bytes32) {
        return _hashPayment(payment);
    }

    /// @inheritdoc IPayInboxVault
    // solhint-disable-next-line func-name-mixedcase
    function DOMAIN_SEPARATOR() external view returns (bytes32) {
        return _domainSeparatorV4();
    }

    // ───────────────────────────── internal ─────────────────────────────

    /// @dev Pulls `amount` from the caller and credits `user`.
    function _deposit(address user, uint256 amount) private {
        if (amount == 0) revert ZeroAmount();
        Account storage a = _accounts[user];
        uint256 balance = a.balance;
        // balance ≤ 2^128 - 1, so the subtraction cannot underflow and the sum below stays under 2^128.
        if (amount > _MAX_BALANCE - balance) revert AmountTooLarge(amount, _MAX_BALANCE - balance);
        _token.safeTransferFrom(msg.sender, address(this), amount);
        // forge-lint: disable-next-line(unsafe-typecast)
        a.balance = uint128(balance + amount); // < 2^128: checked above
        emit Deposited(user, msg.sender, amount);
    }

    /// @dev Debits the caller `amount` and sends it to `to`.
    function _withdraw(address to, uint256 amount) private {
        if (amount == 0) revert ZeroAmount();
        Account storage a = _accounts[msg.sender];
        uint256 balance = a.balance;
        if (amount > balance) revert InsufficientBalance(msg.sender, balance, amount);
        // Cannot underflow: amount ≤ balance, checked above.
        unchecked {
            // forge-lint: disable-next-line(unsafe-typecast)
            a.balance = uint128(balance - amount); // ≤ balance < 2^128
        }
        emit Withdrawn(msg.sender, to, amount);
        _token.safeTransfer(to, amount);
    }

    /// @dev Settles one signed payment. With `strict` a failure reverts with its error; without, it returns the
    ///      error's selector and changes nothing. Success returns `reason == 0` and the fee to accrue.
    function _payRelayed(Payment calldata p, uint8 channel, bytes calldata signature, uint256 feeBps_, bool strict)
        private
        returns (bytes4 reason, uint256 fee)
    {
        // Deadlines are coarse (minutes to hours); a sequencer's few seconds of timestamp drift are harmless.
        // forge-lint: disable-next-line(block-timestamp)
        if (block.timestamp > p.deadline) {
            if (strict) revert PaymentExpired(p.deadline, block.timestamp);
            return (PaymentExpired.selector, 0);
        }
        address payer = p.payer;
        address recipient = p.recipient;
        uint256 amount = p.amount;
        reason = _checkShape(payer, recipient, amount, strict);
        if (reason != bytes4(0)) return (reason, 0);

        Account memory from = _accounts[payer];
        if (p.nonce != from.nonce) {
            if (strict) revert InvalidNonce(payer, from.nonce, p.nonce);
            return (InvalidNonce.selector, 0);
        }
        uint256 total;
        (total, fee) = _withFee(amount, feeBps_);
        if (total > from.balance) {
            if (strict) revert InsufficientBalance(payer, from.balance, total);
            return (InsufficientBalance.selector, 0);
        }
        if (!_isValidSignature(payer, _hashPayment(p), signature, strict)) {
            if (strict) revert InvalidSignature(payer);
            return (InvalidSignature.selector, 0);
        }
        reason = _move(payer, from, total, recipient, amount, strict);
        if (reason != bytes4(0)) return (reason, 0);
        _emitPaid(p, fee, from.nonce, channel);
    }

    /// @dev `MessagePaid` for a relayed payment (a separate frame keeps `_payRelayed` within the stack limit).
    function _emitPaid(Payment calldata p, uint256 fee, uint256 nonce, uint8 channel) private {
        emit MessagePaid(p.payer, p.recipient, p.messageId, p.amount, fee, p.contentHash, nonce, channel);
    }

    /// @dev Rejects a zero amount, an amount above 2^128 and a recipient that is zero or the payer.
    function _checkShape(address payer, address recipient, uint256 amount, bool strict) private pure returns (bytes4) {
        if (amount == 0) {
            if (strict) revert ZeroAmount();
            return ZeroAmount.selector;
        }
        if (amount > _MAX_BALANCE) {
            if (strict) revert AmountTooLarge(amount, _MAX_BALANCE);
            return AmountTooLarge.selector;
        }
        if (recipient == address(0) || recipient == payer) {
            if (strict) revert InvalidRecipient(payer, recipient);
            return InvalidRecipient.selector;
        }
        return bytes4(0);
    }

    /// @dev Writes the payer's debit (`total`, nonce + 1) and the recipient's credit (`amount`). The caller checked
    ///      `total ≤ from.balance` and `recipient != payer`.
    function _move(address payer, Account memory from, uint256 total, address recipient, uint256 amount, bool strict)
        private
        returns (bytes4)
    {
        Account storage to = _accounts[recipient];
        uint256 toBalance = to.balance;
        if (amount > _MAX_BALANCE - toBalance) {
            if (strict) revert AmountTooLarge(amount, _MAX_BALANCE - toBalance);
            return AmountTooLarge.selector;
        }
        // Cannot underflow: total ≤ from.balance (checked by the caller). Cannot overflow: nonces start at 0, rise
        // by 1 per payment or by at most 2^64 per invalidateNonces call, so 2^128 is out of reach.
        unchecked {
            // forge-lint: disable-next-line(unsafe-typecast)
            _accounts[payer] = Account(uint128(from.balance - total), uint128(from.nonce + 1));
        }
        // forge-lint: disable-next-line(unsafe-typecast)
        to.balance = uint128(toBalance + amount); // < 2^128: checked above
        return bytes4(0);
    }

    /// @dev `fee = floor(amount * feeBps / 10_000)`, `total = amount + fee`, for `amount` ≤ 2^128.
    function _withFee(uint256 amount, uint256 feeBps_) private pure returns (uint256 total, uint256 fee) {
        // Cannot overflow: amount ≤ 2^128 and feeBps ≤ 1000 < 2^10, so the product is below 2^138 and the sum
        // below 2^129.
        unchecked {
            fee = amount * feeBps_ / _BPS;
            total = amount + fee;
        }
    }

    /// @dev Adds `fee` to the accrued fees. Should the 72-bit counter ever overflow (over ~4.7e15 USDC
    ///      uncollected), everything accrued is credited to the fee recipient instead, so fees never block payments.
    function _accrue(uint256 fee) private {
        if (fee == 0) return;
        // Cannot overflow: _accruedFees < 2^72 and fee < 2^256 - 2^72 (a batch's fees are below 2^133).
        uint256 accrued;
        unchecked {
            accrued = uint256(_accruedFees) + fee;
        }
        if (accrued > type(uint72).max) {
            _accruedFees = 0;
            _creditFees(accrued);
        } else {
            // forge-lint: disable-next-line(unsafe-typecast)
            _accruedFees = uint72(accrued); // ≤ type(uint72).max: checked above
        }
    }

    /// @dev Moves the accrued fees into the fee recipient's vault balance.
    function _collectFees() private {
        uint256 fees = _accruedFees;
        if (fees == 0) return;
        _accruedFees = 0;
        _creditFees(fees);
    }

    /// @dev Credits `fees` to the fee recipient's vault balance.
    function _creditFees(uint256 fees) private {
        address recipient = _feeRecipient;
        Account storage a = _accounts[recipient];
        uint256 balance = a.balance;
        if (fees > _MAX_BALANCE - balance) revert AmountTooLarge(fees, _MAX_BALANCE - balance);
        // forge-lint: disable-next-line(unsafe-typecast)
        a.balance = uint128(balance + fees); // < 2^128: checked above
        emit FeesCollected(recipient, fees);
    }

    /// @dev The EIP-712 digest of `p`, hashed straight from calldata (no memory allocation per batch item).
    function _hashPayment(Payment calldata p) private view returns (bytes32) {
        bytes32 typeHash = PAYMENT_TYPEHASH;
        bytes32 structHash;
        assembly ("memory-safe") {
            let m := mload(0x40)
            mstore(m, typeHash)
            // The 7 static words of Payment, as ABI-encoded in calldata: exactly EIP-712's encodeData.
            calldatacopy(add(m, 0x20), p, 0xe0)
            structHash := keccak256(m, 0x100)
        }
        return _hashTypedDataV4(structHash);
    }

    /// @dev True if `signature` is `payer`'s over `digest`: a 65-byte low-s ECDSA signature by the payer's key, or
    ///      else an ERC-1271 approval by the payer contract. ECDSA is tried first so EOA payers cost no account
    ///      access; the key of a contract address is unknown, so that order accepts nothing extra. In a batch
    ///      (`strict == false`) the ERC-1271 call gets at most `BATCH_ERC1271_GAS`.
    function _isValidSignature(address payer, bytes32 digest, bytes calldata signature, bool strict)
        private
        view
        returns (bool)
    {
        (address recovered, ECDSA.RecoverError err,) = ECDSA.tryRecoverCalldata(digest, signature);
        if (err == ECDSA.RecoverError.NoError && recovered == payer) return true;
        if (payer.code.length == 0) return false;
        if (strict) return SignatureChecker.isValidERC1271SignatureNowCalldata(payer, digest, signature);
        return _isValidERC1271Capped(payer, digest, signature);
    }

    // ───────────────────────────── packed batches ─────────────────────────────

    /// @dev Settles the packed entry at calldata position `at` (bounds checked by the caller) with the same checks, in
    ///      the same order, as `_payRelayed` without `strict`: returns the failing check's selector and changes
    ///      nothing, or returns `reason == 0` and the fee to accrue after moving the funds and emitting `MessagePaid`.
    ///      Fields are read from calldata where they are used (3 gas each) to stay within the stack limit.
    function _payPacked(uint256 at, uint256 sigLength, bytes32 domain, uint256 feeBps_)
        private
        returns (bytes4 reason, uint256 fee)
    {
        address payer;
        address recipient;
        uint256 amount;
        {
            uint256 deadline;
            assembly ("memory-safe") {
                deadline := shr(216, calldataload(add(at, _P_DEADLINE)))
                payer := shr(96, calldataload(at))
                recipient := shr(96, calldataload(add(at, _P_RECIPIENT)))
                amount := shr(128, calldataload(add(at, _P_AMOUNT)))
            }
            // forge-lint: disable-next-line(block-timestamp)
            if (block.timestamp > deadline) return (PaymentExpired.selector, 0);
        }
        // amount < 2^128 by its 16-byte field, so AmountTooLarge cannot apply to it.
        if (amount == 0) return (ZeroAmount.selector, 0);
        if (recipient == address(0) || recipient == payer) return (InvalidRecipient.selector, 0);

        // The payer's slot: balance in the low 128 bits, nonce in the high 128 bits (`Account`'s layout).
        Account storage from = _accounts[payer];
        uint256 fromWord;
        {
            bool nonceMatches;
            assembly ("memory-safe") {
                fromWord := sload(from.slot)
                nonceMatches := eq(shr(192, calldataload(add(at, _P_NONCE))), shr(128, fromWord))
            }
            if (!nonceMatches) return (InvalidNonce.selector, 0);
            uint256 total;
            // As `_withFee`. Cannot overflow: amount < 2^128 and feeBps ≤ 1000.
            unchecked {
                fee = amount * feeBps_ / _BPS;
                total = amount + fee;
            }
            if (total > fromWord & _MAX_BALANCE) return (InsufficientBalance.selector, 0);
            // The payer's new slot. Cannot underflow: total ≤ the balance (just checked), so only the low 128 bits
            // change. Cannot overflow: the nonce equals the signed uint64 nonce, so + 1 stays far below 2^128.
            unchecked {
                fromWord = fromWord - total + (1 << 128);
            }
        }
        if (sigLength == 0) {
            address recovered = _recoverPacked(at, domain);
            if (recovered == address(0) || recovered != payer) return (InvalidSignature.selector, 0);
        } else if (!_isValidPacked1271(at, sigLength, payer, _packedDigest(at, domain))) {
            return (InvalidSignature.selector, 0);
        }
        {
            Account storage to = _accounts[recipient];
            uint256 toWord;
            assembly ("memory-safe") {
                toWord := sload(to.slot)
            }
            if (amount > _MAX_BALANCE - (toWord & _MAX_BALANCE)) return (AmountTooLarge.selector, 0);
            // Cannot overflow the recipient's low 128 bits: just checked, so its nonce half is untouched.
            // payer != recipient, so the two slots differ.
            assembly ("memory-safe") {
                sstore(from.slot, fromWord)
                sstore(to.slot, add(toWord, amount))
            }
        }
        // `MessagePaid`, ABI-encoded by hand into scratch memory (same event, same data as `settleBatch`'s).
        bytes32 topic = MessagePaid.selector;
        assembly ("memory-safe") {
            let m := mload(0x40)
            mstore(m, amount)
            mstore(add(m, 0x20), fee)
            mstore(add(m, 0x40), calldataload(add(at, _P_CONTENT_HASH)))
            mstore(add(m, 0x60), shr(192, calldataload(add(at, _P_NONCE))))
            mstore(add(m, 0x80), byte(0, calldataload(add(at, _P_CHANNEL))))
            log4(m, 0xa0, topic, payer, recipient, calldataload(add(at, _P_MESSAGE_ID)))
        }
    }

    /// @dev True if the payer contract approves `digest` through ERC-1271 with the `sigLength` bytes of the entry at
    ///      `at` (gas capped at `BATCH_ERC1271_GAS`).
    function _isValidPacked1271(uint256 at, uint256 sigLength, address payer, bytes32 digest)
        private
        view
        returns (bool)
    {
        if (payer.code.length == 0) return false;
        bytes calldata signature;
        assembly ("memory-safe") {
            signature.offset := add(at, _P_SIG)
            signature.length := sigLength
        }
        return _isValidERC1271Capped(payer, digest, signature);
    }

    /// @dev The EIP-712 digest of the entry at `at`: `hashStruct(Payment)` with the narrow fields widened to uint256
    ///      exactly as signed, then `keccak256("\x19\x01" ‖ domain ‖ structHash)` (OZ `MessageHashUtils`' layout).
    function _packedDigest(uint256 at, bytes32 domain) private pure returns (bytes32 digest) {
        bytes32 typeHash = PAYMENT_TYPEHASH;
        assembly ("memory-safe") {
            // Scratch use of free memory, no pointer bump (as in `_hashPayment`).
            let m := mload(0x40)
            mstore(m, typeHash)
            mstore(add(m, 0x20), shr(96, calldataload(at)))
            mstore(add(m, 0x40), shr(96, calldataload(add(at, _P_RECIPIENT))))
            calldatacopy(add(m, 0x60), add(at, _P_MESSAGE_ID), 0x40) // messageId, contentHash
            mstore(add(m, 0xa0), shr(128, calldataload(add(at, _P_AMOUNT))))
            mstore(add(m, 0xc0), shr(192, calldataload(add(at, _P_NONCE))))
            mstore(add(m, 0xe0), shr(216, calldataload(add(at, _P_DEADLINE))))
            let structHash := keccak256(m, 0x100)
            mstore(m, hex"1901")
            mstore(add(m, 0x02), domain)
            mstore(add(m, 0x22), structHash)
            digest := keccak256(m, 0x42)
        }
    }

    /// @dev The signer of the entry at `at` under its EIP-2098 compact signature `r ‖ yParityAndS`, or zero if there
    ///      is none. Same rules as OZ `ECDSA.tryRecover(hash, r, vs)` (which costs ~450 gas more a call): an `s`
    ///      above half the curve order (the malleable twin) is refused; the `ecrecover` precompile returns no data
    ///      for an invalid signature, which leaves the zeroed output word as the answer.
    function _recoverPacked(uint256 at, bytes32 domain) private view returns (address signer) {
        bytes32 digest = _packedDigest(at, domain);
        assembly ("memory-safe") {
            let vs := calldataload(add(at, add(_P_SIG, 0x20)))
            let s := shr(1, shl(1, vs))
            // secp256k1n / 2 (EIP-2 low-s rule).
            if iszero(gt(s, 0x7FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF5D576E7357A4501DDFE92F46681B20A0)) {
                let m := mload(0x40)
                mstore(m, digest)
                mstore(add(m, 0x20), add(shr(255, vs), 27))
                mstore(add(m, 0x40), calldataload(add(at, _P_SIG)))
                mstore(add(m, 0x60), s)
                mstore(0x00, 0)
                pop(staticcall(gas(), 0x01, m, 0x80, 0x00, 0x20))
                signer := mload(0x00)
            }
        }
    }

    /// @dev `PaymentSkipped` for the entry at `at`.
    function _emitPackedSkipped(uint256 at, bytes4 reason) private {
        address payer;
        bytes32 messageId;
        uint256 nonce;
        assembly ("memory-safe") {
            payer := shr(96, calldataload(at))
            messageId := calldataload(add(at, _P_MESSAGE_ID))
            nonce := shr(192, calldataload(add(at, _P_NONCE)))
        }
        emit PaymentSkipped(payer, messageId, nonce, reason);
    }

    /// @dev `SignatureChecker.isValidERC1271SignatureNowCalldata` with the call's gas capped at `BATCH_ERC1271_GAS`.
    ///      Only 32 bytes of return data are copied, so a return-data bomb costs the batch nothing.
    function _isValidERC1271Capped(address signer, bytes32 hash, bytes calldata signature)
        private
        view
        returns (bool result)
    {
        bytes4 selector = IERC1271.isValidSignature.selector;
        uint256 gasCap = BATCH_ERC1271_GAS;
        assembly ("memory-safe") {
            let length := signature.length
            let ptr := mload(0x40)
            mstore(ptr, selector)
            mstore(add(ptr, 0x04), hash)
            mstore(add(ptr, 0x24), 0x40)
            mstore(add(ptr, 0x44), length)
            calldatacopy(add(ptr, 0x64), signature.offset, length)
            mstore(add(add(ptr, 0x64), length), 0)
            // Pad the signature to a whole number of words.
            length := shl(5, shr(5, add(length, 0x1F)))
            let success := staticcall(gasCap, signer, ptr, add(length, 0x64), 0x00, 0x20)
            result := and(success, and(gt(returndatasize(), 0x1f), eq(mload(0x00), selector)))
        }
    }
}
