// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {Test} from "forge-std/Test.sol";

import {PricingRegistry} from "../src/PricingRegistry.sol";
import {IPricingRegistry} from "../src/interfaces/IPricingRegistry.sol";

contract PricingRegistryTest is Test {
    PricingRegistry internal registry;
    address internal alice = makeAddr("alice");
    address internal bob = makeAddr("bob");
    address internal carol = makeAddr("carol");

    function setUp() public {
        registry = new PricingRegistry();
    }

    function _pricing(uint96 d, uint96 f, uint16 ret) internal pure returns (IPricingRegistry.Pricing memory) {
        return IPricingRegistry.Pricing(d, f, ret, IPricingRegistry.Settlement.Instant, 0);
    }

    function test_pricingOf_defaults() public view {
        (IPricingRegistry.Pricing memory p, bool custom) = registry.pricingOf(alice);
        assertFalse(custom);
        assertEq(p.defaultPrice, 1_000_000);
        assertEq(p.firstContactPrice, 1_000_000);
        assertEq(p.returnDiscountBps, 0);
        assertEq(uint8(p.settlement), uint8(IPricingRegistry.Settlement.Instant));
        assertEq(p.replyWindowHours, 0);
    }

    function test_setPricing_storesAndEmits() public {
        IPricingRegistry.Pricing memory p =
            IPricingRegistry.Pricing(2_000_000, 5_000_000, 2500, IPricingRegistry.Settlement.OnReply, 48);
        vm.expectEmit(true, true, true, true);
        emit IPricingRegistry.PricingSet(alice, 2_000_000, 5_000_000, 2500, IPricingRegistry.Settlement.OnReply, 48);
        vm.prank(alice);
        registry.setPricing(p);
        (IPricingRegistry.Pricing memory got, bool custom) = registry.pricingOf(alice);
        assertTrue(custom);
        assertEq(abi.encode(got), abi.encode(p));
        (, bool bobCustom) = registry.pricingOf(bob);
        assertFalse(bobCustom, "only the caller's own pricing changes");
    }

    function test_setPricing_allowsFreeInbox() public {
        vm.prank(alice);
        registry.setPricing(_pricing(0, 0, 0));
        (uint256 price,) = registry.quote(alice, bob, true, false);
        assertEq(price, 0);
    }

    function test_setPricing_revertsOnDiscountAbove100Percent() public {
        vm.prank(alice);
        vm.expectRevert(abi.encodeWithSelector(IPricingRegistry.InvalidDiscount.selector, 10_001));
        registry.setPricing(_pricing(1, 1, 10_001));
    }

    function test_setPricing_revertsOnBadReplyWindow() public {
        IPricingRegistry.Pricing memory p = IPricingRegistry.Pricing(1, 1, 0, IPricingRegistry.Settlement.OnReply, 0);
        vm.startPrank(alice);
        vm.expectRevert(
            abi.encodeWithSelector(IPricingRegistry.InvalidReplyWindow.selector, IPricingRegistry.Settlement.OnReply, 0)
        );
        registry.setPricing(p);
        p.replyWindowHours = 721;
        vm.expectRevert(
            abi.encodeWithSelector(
                IPricingRegistry.InvalidReplyWindow.selector, IPricingRegistry.Settlement.OnReply, 721
            )
        );
        registry.setPricing(p);
        p.settlement = IPricingRegistry.Settlement.Instant;
        p.replyWindowHours = 5;
        vm.expectRevert(
            abi.encodeWithSelector(IPricingRegistry.InvalidReplyWindow.selector, IPricingRegistry.Settlement.Instant, 5)
        );
        registry.setPricing(p);
        vm.stopPrank();
    }

    function test_clearPricing_restoresDefaults() public {
        vm.startPrank(alice);
        registry.setPricing(_pricing(7, 7, 0));
        vm.expectEmit(true, true, true, true);
        emit IPricingRegistry.PricingCleared(alice);
        registry.clearPricing();
        vm.stopPrank();
        (IPricingRegistry.Pricing memory p, bool custom) = registry.pricingOf(alice);
        assertFalse(custom);
        assertEq(p.defaultPrice, 1_000_000);
    }

    function test_setAllowlist_andRemove() public {
        vm.expectEmit(true, true, true, true);
        emit IPricingRegistry.AllowlistSet(alice, bob, 0);
        vm.prank(alice);
        registry.setAllowlist(bob, 0);
        (bool listed, uint16 bps) = registry.allowlistOf(alice, bob);
        assertTrue(listed);
        assertEq(bps, 0);
        vm.expectEmit(true, true, true, true);
        emit IPricingRegistry.AllowlistRemoved(alice, bob);
        vm.prank(alice);
        registry.removeAllowlist(bob);
        (listed,) = registry.allowlistOf(alice, bob);
        assertFalse(listed);
    }

    function test_setAllowlist_reverts() public {
        vm.startPrank(alice);
        vm.expectRevert(abi.encodeWithSelector(IPricingRegistry.InvalidSender.selector, address(0)));
        registry.setAllowlist(address(0), 1);
        vm.expectRevert(abi.encodeWithSelector(IPricingRegistry.InvalidSender.selector, alice));
        registry.setAllowlist(alice, 1);
        vm.expectRevert(abi.encodeWithSelector(IPricingRegistry.InvalidDiscount.selector, 10_001));
        registry.setAllowlist(bob, 10_001);
        vm.stopPrank();
    }

    function test_setAllowlistBatch() public {
        address[] memory senders = new address[](2);
        senders[0] = bob;
        senders[1] = carol;
        uint16[] memory bps = new uint16[](2);
        bps[0] = 1000;
        bps[1] = 10_000;
        vm.prank(alice);
        registry.setAllowlistBatch(senders, bps);
        (, uint16 b) = registry.allowlistOf(alice, carol);
        assertEq(b, 10_000);
        (uint256 price, IPricingRegistry.QuoteReason reason) = registry.quote(alice, carol, true, false);
        assertEq(price, 0);
        assertEq(uint8(reason), uint8(IPricingRegistry.QuoteReason.Allowlist));
    }

    function test_setAllowlistBatch_revertsOnLengthMismatch() public {
        vm.prank(alice);
        vm.expectRevert(abi.encodeWithSelector(IPricingRegistry.LengthMismatch.selector, 1, 0));
        registry.setAllowlistBatch(new address[](1), new uint16[](0));
    }

    /// @dev The API's rule: allowlist, then first contact, then return discount, then default.
    function test_quote_rule() public {
        vm.prank(alice);
        registry.setPricing(_pricing(1_000_001, 3_000_000, 3333));
        (uint256 price, IPricingRegistry.QuoteReason reason) = registry.quote(alice, bob, true, true);
        assertEq(price, 3_000_000);
        assertEq(uint8(reason), uint8(IPricingRegistry.QuoteReason.FirstContact));
        (price, reason) = registry.quote(alice, bob, false, true);
        // discount floor(1_000_001 * 3333 / 10_000) = 333_300; price rounds up to 666_701
        assertEq(price, 666_701);
        assertEq(uint8(reason), uint8(IPricingRegistry.QuoteReason.ReturnDiscount));
        (price, reason) = registry.quote(alice, bob, false, false);
        assertEq(price, 1_000_001);
        assertEq(uint8(reason), uint8(IPricingRegistry.QuoteReason.Default));
        vm.prank(alice);
        registry.setAllowlist(bob, 5000);
        (price, reason) = registry.quote(alice, bob, true, false);
        assertEq(price, 500_001); // 1_000_001 - floor(500_000.5)
        assertEq(uint8(reason), uint8(IPricingRegistry.QuoteReason.Allowlist));
    }

    function testFuzz_quote_discountRoundsDown(uint96 price, uint16 bps) public {
        bps = uint16(bound(bps, 0, 10_000));
        vm.prank(alice);
        registry.setPricing(_pricing(price, price, bps));
        (uint256 quoted,) = registry.quote(alice, bob, false, true);
        assertEq(quoted, uint256(price) - uint256(price) * bps / 10_000);
        assertGe(quoted * 10_000, uint256(price) * (10_000 - bps));
    }
}
