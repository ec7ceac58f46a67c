// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

/// @title IPricingRegistry
/// @notice Per-user price of being contacted and per-sender allowlist discounts, set by each user for itself.
/// @dev Keyed by wallet address only: no PII. Prices are USDC base units. The vault does not read it; the worker
///      quotes from it (or from its own copy) and the payer's signature fixes the amount actually paid.
interface IPricingRegistry {
    /// @notice When the recipient gets the price: at once, or when it replies within the window (escrow).
    enum Settlement {
        Instant,
        OnReply
    }

    /// @notice Why a quote has its price (the API's `reason`).
    enum QuoteReason {
        FirstContact,
        Default,
        ReturnDiscount,
        Allowlist
    }

    /// @notice A user's pricing; fits one slot.
    /// @param defaultPrice Price for a sender who contacted the user before.
    /// @param firstContactPrice Price for a sender's first message to the user.
    /// @param returnDiscountBps Discount on `defaultPrice` for senders the user has itself written to.
    /// @param settlement Settlement policy.
    /// @param replyWindowHours For `OnReply`: hours the recipient has to reply (1..MAX_REPLY_WINDOW_HOURS); else 0.
    struct Pricing {
        uint96 defaultPrice;
        uint96 firstContactPrice;
        uint16 returnDiscountBps;
        Settlement settlement;
        uint16 replyWindowHours;
    }

    // ───────────────────────────── errors ─────────────────────────────

    /// @notice A discount above 10_000 basis points.
    error InvalidDiscount(uint256 discountBps);

    /// @notice A reply window out of range for the settlement policy (`OnReply`: 1..max hours; `Instant`: 0).
    error InvalidReplyWindow(Settlement settlement, uint256 replyWindowHours);

    /// @notice The zero address or the caller itself was given as a sender.
    error InvalidSender(address sender);

    /// @notice Two arrays of different lengths.
    error LengthMismatch(uint256 senders, uint256 discounts);

    // ───────────────────────────── events ─────────────────────────────

    /// @notice `user` set its pricing.
    event PricingSet(
        address indexed user,
        uint256 defaultPrice,
        uint256 firstContactPrice,
        uint256 returnDiscountBps,
        Settlement settlement,
        uint256 replyWindowHours
    );

    /// @notice `user` went back to the default pricing.
    event PricingCleared(address indexed user);

    /// @notice `user` allowlisted `sender` with a discount on its default price.
    event AllowlistSet(address indexed user, address indexed sender, uint256 discountBps);

    /// @notice `user` removed `sender` from its allowlist.
    event AllowlistRemoved(address indexed user, address indexed sender);

    // ───────────────────────────── updates (by the user, for itself) ─────────────────────────────

    /// @notice Sets the caller's pricing.
    function setPricing(Pricing calldata pricing) external;

    /// @notice Resets the caller's pricing to the defaults.
    function clearPricing() external;

    /// @notice Allowlists `sender` with `discountBps` off the caller's default price (0 allowed: listed, no discount).
    function setAllowlist(address sender, uint16 discountBps) external;

    /// @notice `setAllowlist` for many senders.
    function setAllowlistBatch(address[] calldata senders, uint16[] calldata discountsBps) external;

    /// @notice Removes `sender` from the caller's allowlist.
    function removeAllowlist(address sender) external;

    // ───────────────────────────── reads ─────────────────────────────

    /// @notice `user`'s pricing, or the defaults (`isCustom == false`) if it never set one.
    function pricingOf(address user) external view returns (Pricing memory pricing, bool isCustom);

    /// @notice Whether `sender` is on `user`'s allowlist, and its discount.
    function allowlistOf(address user, address sender) external view returns (bool listed, uint16 discountBps);

    /// @notice The price `sender` pays to reach `recipient`, by the product's rule: allowlisted → default less its
    ///         discount; else first contact → first-contact price; else if the recipient has written to the sender →
    ///         default less the return discount; else default. Discounts round down (the price rounds up).
    /// @param firstContact The sender never sent to the recipient before (off-chain knowledge).
    /// @param recipientWroteToSender The recipient has sent to the sender before (off-chain knowledge).
    function quote(address recipient, address sender, bool firstContact, bool recipientWroteToSender)
        external
        view
        returns (uint256 price, QuoteReason reason);
}
