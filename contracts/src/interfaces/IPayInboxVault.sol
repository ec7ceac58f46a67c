// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

/// @title IPayInboxVault
/// @notice USDC custody for Paid Inbox and one `MessagePaid` receipt per paid message.
/// @dev Amounts are token base units (USDC: 6 decimals). A payment of `amount` debits the payer
///      `amount + fee`, credits the recipient `amount` and accrues `fee` to the fee recipient, where
///      `fee = floor(amount * feeBps / 10_000)` — the same rule as the off-chain ledger.
interface IPayInboxVault {
    /// @notice A payment the payer authorises with an EIP-712 signature, settled by anyone.
    /// @dev EIP-712 type: `Payment(address payer,address recipient,bytes32 messageId,bytes32 contentHash,
    ///      uint256 amount,uint256 nonce,uint256 deadline)`, domain `PayInboxVault` version `1`
    ///      (chain id and vault address included).
    /// @param payer Account debited; the signer (an EOA, or an ERC-1271 contract that approves the digest).
    /// @param recipient Account credited with `amount`.
    /// @param messageId keccak256 of the sender id and idempotency key (off-chain message id).
    /// @param contentHash Commitment to the message content (opaque to the vault).
    /// @param amount Price paid to the recipient; the fee comes on top.
    /// @param nonce Must equal the payer's current nonce; every payment uses the next one.
    /// @param deadline Last timestamp (inclusive) at which the payment can settle.
    struct Payment {
        address payer;
        address recipient;
        bytes32 messageId;
        bytes32 contentHash;
        uint256 amount;
        uint256 nonce;
        uint256 deadline;
    }

    /// @notice One entry of `settleBatch`.
    /// @param payment The signed payment.
    /// @param channel App-defined delivery-channel tag echoed in `MessagePaid`; not signed (moves no funds).
    /// @param signature 65-byte ECDSA signature (r, s, v) of an EOA payer, or any bytes an ERC-1271 payer accepts.
    struct SignedPayment {
        Payment payment;
        uint8 channel;
        bytes signature;
    }

    // ───────────────────────────── errors ─────────────────────────────

    /// @notice An amount of zero was given where a positive amount is required.
    error ZeroAmount();

    /// @notice The zero address was given where an account is required.
    error ZeroAddress();

    /// @notice The amount does not fit the vault's 128-bit balances.
    /// @param amount The amount given.
    /// @param max The largest amount accepted.
    error AmountTooLarge(uint256 amount, uint256 max);

    /// @notice `account` holds `balance` in the vault but `needed` is required.
    error InsufficientBalance(address account, uint256 balance, uint256 needed);

    /// @notice The recipient is the zero address or the payer itself.
    error InvalidRecipient(address payer, address recipient);

    /// @notice The signed nonce is not the payer's current nonce (already used, or not yet reachable).
    error InvalidNonce(address payer, uint256 expected, uint256 provided);

    /// @notice The payment's deadline has passed.
    error PaymentExpired(uint256 deadline, uint256 timestamp);

    /// @notice The signature is not the payer's (wrong signer, domain, chain, data, high-s, or the ERC-1271 wallet refused).
    error InvalidSignature(address payer);

    /// @notice `settleBatch` was called with no payments.
    error EmptyBatch();

    /// @notice `settleBatchPacked` data does not end on an entry boundary (the entry at `offset` is cut short).
    error MalformedBatch(uint256 offset);

    /// @notice The fee exceeds the hard cap.
    error FeeTooHigh(uint256 feeBps, uint256 maxFeeBps);

    /// @notice A nonce invalidation must raise the nonce by 1 to 2^64.
    error InvalidNonceIncrease(uint256 current, uint256 requested);

    /// @notice The vault's own token cannot be rescued.
    error CannotRescueVaultToken();

    // ───────────────────────────── events ─────────────────────────────

    /// @notice `from` moved `amount` tokens into the vault, credited to `user`.
    event Deposited(address indexed user, address indexed from, uint256 amount);

    /// @notice `user` took `amount` tokens out of the vault, sent to `to`.
    event Withdrawn(address indexed user, address indexed to, uint256 amount);

    /// @notice The receipt of one paid message: `payer` paid `amount` to `recipient` plus `fee`.
    /// @param payer Account debited `amount + fee`.
    /// @param recipient Account credited `amount`.
    /// @param messageId Off-chain message id.
    /// @param amount Credited to the recipient.
    /// @param fee Accrued to the fee recipient.
    /// @param contentHash Commitment to the message content.
    /// @param nonce The payer's nonce this payment used (unique per payer, gap-free across all payments).
    /// @param channel App-defined delivery-channel tag.
    event MessagePaid(
        address indexed payer,
        address indexed recipient,
        bytes32 indexed messageId,
        uint256 amount,
        uint256 fee,
        bytes32 contentHash,
        uint256 nonce,
        uint8 channel
    );

    /// @notice A payment in a batch was not settled; nothing moved for it.
    /// @param payer The payment's payer as signed (maybe not the real signer).
    /// @param messageId The payment's message id.
    /// @param nonce The payment's nonce as signed.
    /// @param reason Selector of the error `payWithSig` would have reverted with.
    event PaymentSkipped(address indexed payer, bytes32 indexed messageId, uint256 nonce, bytes4 reason);

    /// @notice `payer` cancelled every unused signed payment below `newNonce`.
    event NoncesInvalidated(address indexed payer, uint256 oldNonce, uint256 newNonce);

    /// @notice The fee changed.
    event FeeBpsUpdated(uint256 oldFeeBps, uint256 newFeeBps);

    /// @notice The fee recipient changed (fees accrued so far were collected to the old one first).
    event FeeRecipientUpdated(address indexed oldRecipient, address indexed newRecipient);

    /// @notice Accrued fees of `amount` were credited to `feeRecipient`'s vault balance.
    event FeesCollected(address indexed feeRecipient, uint256 amount);

    /// @notice The owner sent `amount` of a foreign `token` (not the vault token) held by the vault to `to`.
    event TokenRescued(address indexed token, address indexed to, uint256 amount);

    // ───────────────────────────── deposits and withdrawals ─────────────────────────────

    /// @notice Moves `amount` tokens from the caller into the vault, credited to the caller. Needs an allowance.
    function deposit(uint256 amount) external;

    /// @notice Moves `amount` tokens from the caller into the vault, credited to `user`. Needs an allowance.
    function depositFor(address user, uint256 amount) external;

    /// @notice `deposit` with an EIP-2612 permit for the allowance, in one transaction.
    /// @dev A permit already used (e.g. front-run) is tolerated when the allowance is already in place.
    function depositWithPermit(uint256 amount, uint256 deadline, uint8 v, bytes32 r, bytes32 s) external;

    /// @notice Sends `amount` of the caller's balance to the caller. Works while paused.
    function withdraw(uint256 amount) external;

    /// @notice Sends `amount` of the caller's balance to `to`. Works while paused.
    function withdrawTo(address to, uint256 amount) external;

    // ───────────────────────────── payments ─────────────────────────────

    /// @notice The caller pays `amount` (+ fee) to `recipient` for message `messageId`, using its next nonce.
    function sendMessagePayment(
        address recipient,
        bytes32 messageId,
        bytes32 contentHash,
        uint8 channel,
        uint256 amount
    ) external;

    /// @notice Settles one payment signed by its payer; reverts with the reason if it cannot settle.
    function payWithSig(Payment calldata payment, uint8 channel, bytes calldata signature) external;

    /// @notice Settles many signed payments; each emits its own `MessagePaid`, a failing one is skipped
    ///         with `PaymentSkipped` and does not affect the others.
    /// @return settled How many payments settled.
    function settleBatch(SignedPayment[] calldata payments) external returns (uint256 settled);

    /// @notice `settleBatch` with tightly packed calldata (about 60% fewer calldata bytes per payment); same checks,
    ///         same events, same per-payment skip rule.
    /// @dev `batch` is a concatenation of entries, each (big-endian, no padding):
    ///      `payer (20) ‖ recipient (20) ‖ messageId (32) ‖ contentHash (32) ‖ amount (uint128, 16) ‖
    ///      nonce (uint64, 8) ‖ deadline (uint40, 5) ‖ channel (uint8, 1) ‖ sigLength (uint16, 2) ‖ signature`.
    ///      `sigLength == 0`: the signature is 64 bytes, an EIP-2098 compact ECDSA signature `r ‖ yParityAndS` by
    ///      the payer's key (low-s only), 200 bytes an entry. `sigLength > 0`: `sigLength` bytes handed to the payer's
    ///      ERC-1271 `isValidSignature` (gas-capped as in `settleBatch`). The signed EIP-712 `Payment` is the same as
    ///      everywhere (the narrow fields are widened to uint256), so one signature settles through either entry
    ///      point, once. Payments whose amount, nonce or deadline do not fit the narrow fields use `settleBatch`.
    ///      Reverts with `MalformedBatch` if the last entry is cut short.
    /// @return settled How many payments settled.
    function settleBatchPacked(bytes calldata batch) external returns (uint256 settled);

    /// @notice Raises the caller's nonce to `newNonce`, cancelling every unused signed payment below it.
    function invalidateNonces(uint256 newNonce) external;

    // ───────────────────────────── fees and admin ─────────────────────────────

    /// @notice Credits all accrued fees to the fee recipient's vault balance. Anyone may call.
    function collectFees() external;

    /// @notice Sets the fee in basis points (owner; at most `MAX_FEE_BPS`).
    function setFeeBps(uint256 newFeeBps) external;

    /// @notice Sets the fee recipient (owner); fees accrued so far go to the previous one.
    function setFeeRecipient(address newRecipient) external;

    /// @notice Stops deposits and payments (owner). Withdrawals keep working.
    function pause() external;

    /// @notice Resumes deposits and payments (owner).
    function unpause() external;

    /// @notice Sends a foreign token sent to the vault by mistake to `to` (owner). The vault token is refused.
    function rescueToken(address token, address to, uint256 amount) external;

    // ───────────────────────────── reads ─────────────────────────────

    /// @notice The custodied ERC-20 (USDC).
    function token() external view returns (address);

    /// @notice `account`'s vault balance.
    function balanceOf(address account) external view returns (uint256);

    /// @notice `payer`'s next payment nonce.
    function nonces(address payer) external view returns (uint256);

    /// @notice `account`'s balance and next nonce, read from one slot.
    function accountOf(address account) external view returns (uint256 balance, uint256 nonce);

    /// @notice The fee in basis points.
    function feeBps() external view returns (uint256);

    /// @notice The account fees are collected to.
    function feeRecipient() external view returns (address);

    /// @notice Fees accrued and not yet collected.
    function accruedFees() external view returns (uint256);

    /// @notice The fee on a payment of `amount`: `floor(amount * feeBps / 10_000)`.
    function feeFor(uint256 amount) external view returns (uint256);

    /// @notice The EIP-712 digest the payer signs for `payment`.
    function hashPayment(Payment calldata payment) external view returns (bytes32);

    /// @notice The EIP-712 domain separator (chain id and vault address included).
    function DOMAIN_SEPARATOR() external view returns (bytes32);
}
