// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {IPricingRegistry} from "./interfaces/IPricingRegistry.sol";

/// @title PricingRegistry
/// @notice Each user's price of being contacted and its allowlist discounts; only the user can change its own.
/// @dev No owner, no PII, no funds. Defaults match the API: 1 USDC default and first-contact price, no return
///      discount, instant settlement.
contract PricingRegistry is IPricingRegistry {
    /// @dev A stored pricing plus whether the user set one (so all-zero pricing is expressible).
    struct Stored {
        Pricing pricing;
        bool isSet;
    }

    /// @dev Allowlist entry; `listed` tells an entry with a 0 discount from no entry.
    struct Entry {
        bool listed;
        uint16 discountBps;
    }

    /// @notice Default price (and first-contact price) of a user that set none: 1 USDC.
    uint96 public constant DEFAULT_PRICE = 1_000_000;

    /// @notice Longest reply window for `OnReply`: 30 days.
    uint16 public constant MAX_REPLY_WINDOW_HOURS = 720;

    uint256 private constant _BPS = 10_000;

    mapping(address user => Stored) private _pricing;
    mapping(address user => mapping(address sender => Entry)) private _allowlist;

    /// @inheritdoc IPricingRegistry
    function setPricing(Pricing calldata p) external {
        if (p.returnDiscountBps > _BPS) revert InvalidDiscount(p.returnDiscountBps);
        bool onReply = p.settlement == Settlement.OnReply;
        if (onReply
                ? (p.replyWindowHours == 0 || p.replyWindowHours > MAX_REPLY_WINDOW_HOURS)
                : p.replyWindowHours != 0) {
            revert InvalidReplyWindow(p.settlement, p.replyWindowHours);
        }
        _pricing[msg.sender] = Stored(p, true);
        emit PricingSet(
            msg.sender, p.defaultPrice, p.firstContactPrice, p.returnDiscountBps, p.settlement, p.replyWindowHours
        );
    }

    /// @inheritdoc IPricingRegistry
    function clearPricing() external {
        delete _pricing[msg.sender];
        emit PricingCleared(msg.sender);
    }

    /// @inheritdoc IPricingRegistry
    function setAllowlist(address sender, uint16 discountBps) external {
        _setAllowlist(sender, discountBps);
    }

    /// @inheritdoc IPricingRegistry
    function setAllowlistBatch(address[] calldata senders, uint16[] calldata discountsBps) external {
        if (senders.length != discountsBps.length) revert LengthMismatch(senders.length, discountsBps.length);
        for (uint256 i; i < senders.length; ++i) {
            _setAllowlist(senders[i], discountsBps[i]);
        }
    }

    /// @inheritdoc IPricingRegistry
    function removeAllowlist(address sender) external {
        delete _allowlist[msg.sender][sender];
        emit AllowlistRemoved(msg.sender, sender);
    }

    /// @inheritdoc IPricingRegistry
    function pricingOf(address user) public view returns (Pricing memory pricing, bool isCustom) {
        Stored storage s = _pricing[user];
        if (!s.isSet) return (Pricing(DEFAULT_PRICE, DEFAULT_PRICE, 0, Settlement.Instant, 0), false);
        return (s.pricing, true);
    }

    /// @inheritdoc IPricingRegistry
    function allowlistOf(address user, address sender) external view returns (bool listed, uint16 discountBps) {
        Entry memory e = _allowlist[user][sender];
        return (e.listed, e.discountBps);
    }

    /// @inheritdoc IPricingRegistry
    function quote(address recipient, address sender, bool firstContact, bool recipientWroteToSender)
        external
        view
        returns (uint256 price, QuoteReason reason)
    {
        (Pricing memory p,) = pricingOf(recipient);
        Entry memory e = _allowlist[recipient][sender];
        if (e.listed) return (_discounted(p.defaultPrice, e.discountBps), QuoteReason.Allowlist);
        if (firstContact) return (p.firstContactPrice, QuoteReason.FirstContact);
        if (recipientWroteToSender) {
            return (_discounted(p.defaultPrice, p.returnDiscountBps), QuoteReason.ReturnDiscount);
        }
        return (p.defaultPrice, QuoteReason.Default);
    }

    function _setAllowlist(address sender, uint16 discountBps) private {
        if (sender == address(0) || sender == msg.sender) revert InvalidSender(sender);
        if (discountBps > _BPS) revert InvalidDiscount(discountBps);
        _allowlist[msg.sender][sender] = Entry(true, discountBps);
        emit AllowlistSet(msg.sender, sender, discountBps);
    }

    /// @dev `price` less `floor(price * bps / 10_000)`: the discount rounds down, so the price rounds up.
    function _discounted(uint256 price, uint256 bps) private pure returns (uint256) {
        // Cannot overflow: price < 2^96 and bps ≤ 10_000 < 2^14. Cannot underflow: the discount is ≤ price.
        unchecked {
            return price - price * bps / _BPS;
        }
    }
}
