// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {Ownable} from "@openzeppelin/contracts/access/Ownable.sol";
import {Ownable2Step} from "@openzeppelin/contracts/access/Ownable2Step.sol";
import {IERC20Errors} from "@openzeppelin/contracts/interfaces/draft-IERC6093.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {Pausable} from "@openzeppelin/contracts/utils/Pausable.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";

import {MockUSDC} from "../src/MockUSDC.sol";
import {PayInboxVault} from "../src/PayInboxVault.sol";
import {IPayInboxVault} from "../src/interfaces/IPayInboxVault.sol";
import {BaseTest} from "./utils/BaseTest.sol";
import {ReentrantToken} from "./utils/Mocks.sol";

/// @dev Unit tests: every function, every revert, every event.
contract PayInboxVaultTest is BaseTest {
    uint256 internal constant MAX128 = type(uint128).max;

    // ───────────────────────────── constructor ─────────────────────────────

    function test_constructor_setsState() public view {
        assertEq(vault.token(), address(usdc));
        assertEq(vault.owner(), owner);
        assertEq(vault.feeRecipient(), feeRecipient);
        assertEq(vault.feeBps(), FEE_BPS);
        assertEq(vault.accruedFees(), 0);
        assertFalse(vault.paused());
        assertEq(vault.MAX_FEE_BPS(), 1000);
    }

    function test_constructor_emits() public {
        vm.expectEmit(true, true, true, true);
        emit IPayInboxVault.FeeRecipientUpdated(address(0), feeRecipient);
        vm.expectEmit(true, true, true, true);
        emit IPayInboxVault.FeeBpsUpdated(0, 100);
        new PayInboxVault(usdc, owner, feeRecipient, 100);
    }

    function test_constructor_revertsOnZeroToken() public {
        vm.expectRevert(IPayInboxVault.ZeroAddress.selector);
        new PayInboxVault(IERC20(address(0)), owner, feeRecipient, FEE_BPS);
    }

    function test_constructor_revertsOnZeroFeeRecipient() public {
        vm.expectRevert(IPayInboxVault.ZeroAddress.selector);
        new PayInboxVault(usdc, owner, address(0), FEE_BPS);
    }

    function test_constructor_revertsOnZeroOwner() public {
        vm.expectRevert(abi.encodeWithSelector(Ownable.OwnableInvalidOwner.selector, address(0)));
        new PayInboxVault(usdc, address(0), feeRecipient, FEE_BPS);
    }

    function test_constructor_revertsOnFeeTooHigh() public {
        vm.expectRevert(abi.encodeWithSelector(IPayInboxVault.FeeTooHigh.selector, 1001, 1000));
        new PayInboxVault(usdc, owner, feeRecipient, 1001);
    }

    /// @dev The gas design relies on `_paused`, the fee rate and the accrued fees sharing slot 3.
    function test_storageLayout_hotSlotIsPacked() public {
        _fund(alice, 10 * USDC);
        vm.prank(alice);
        vault.sendMessagePayment(bob, bytes32(0), bytes32(0), 0, 4 * USDC); // fee 0.1 USDC
        vm.prank(owner);
        vault.pause();
        uint256 word = uint256(vm.load(address(vault), bytes32(uint256(3))));
        assertEq((word >> 160) & 0xff, 1, "paused at byte 20");
        assertEq((word >> 168) & 0xffff, FEE_BPS, "feeBps at bytes 21-22");
        assertEq(word >> 184, 100_000, "accrued fees at bytes 23-31");
    }

    // ───────────────────────────── deposit ─────────────────────────────

    function test_deposit_creditsCaller() public {
        usdc.mint(alice, 100 * USDC);
        vm.startPrank(alice);
        usdc.approve(address(vault), 100 * USDC);
        vm.expectEmit(true, true, true, true);
        emit IPayInboxVault.Deposited(alice, alice, 60 * USDC);
        vault.deposit(60 * USDC);
        vm.stopPrank();
        assertEq(vault.balanceOf(alice), 60 * USDC);
        assertEq(usdc.balanceOf(address(vault)), 60 * USDC);
        assertEq(usdc.balanceOf(alice), 40 * USDC);
    }

    function test_deposit_revertsOnZero() public {
        vm.prank(alice);
        vm.expectRevert(IPayInboxVault.ZeroAmount.selector);
        vault.deposit(0);
    }

    function test_deposit_revertsWhenPaused() public {
        vm.prank(owner);
        vault.pause();
        vm.prank(alice);
        vm.expectRevert(Pausable.EnforcedPause.selector);
        vault.deposit(1);
    }

    function test_deposit_revertsWithoutAllowance() public {
        usdc.mint(alice, 1);
        vm.prank(alice);
        vm.expectRevert(abi.encodeWithSelector(IERC20Errors.ERC20InsufficientAllowance.selector, address(vault), 0, 1));
        vault.deposit(1);
    }

    function test_deposit_revertsAboveMaxBalance() public {
        _fund(alice, MAX128);
        usdc.mint(alice, 1);
        vm.startPrank(alice);
        usdc.approve(address(vault), 1);
        vm.expectRevert(abi.encodeWithSelector(IPayInboxVault.AmountTooLarge.selector, 1, 0));
        vault.deposit(1);
        vm.stopPrank();
    }

    // ───────────────────────────── depositFor ─────────────────────────────

    function test_depositFor_creditsUser() public {
        usdc.mint(alice, 10 * USDC);
        vm.startPrank(alice);
        usdc.approve(address(vault), 10 * USDC);
        vm.expectEmit(true, true, true, true);
        emit IPayInboxVault.Deposited(bob, alice, 10 * USDC);
        vault.depositFor(bob, 10 * USDC);
        vm.stopPrank();
        assertEq(vault.balanceOf(bob), 10 * USDC);
        assertEq(vault.balanceOf(alice), 0);
    }

    function test_depositFor_revertsOnZeroUser() public {
        vm.prank(alice);
        vm.expectRevert(IPayInboxVault.ZeroAddress.selector);
        vault.depositFor(address(0), 1);
    }

    function test_depositFor_revertsOnZeroAmount() public {
        vm.prank(alice);
        vm.expectRevert(IPayInboxVault.ZeroAmount.selector);
        vault.depositFor(bob, 0);
    }

    function test_depositFor_revertsWhenPaused() public {
        vm.prank(owner);
        vault.pause();
        vm.prank(alice);
        vm.expectRevert(Pausable.EnforcedPause.selector);
        vault.depositFor(bob, 1);
    }

    // ───────────────────────────── depositWithPermit ─────────────────────────────

    function _permit(uint256 key, address holder, uint256 amount, uint256 deadline)
        internal
        view
        returns (uint8 v, bytes32 r, bytes32 s)
    {
        bytes32 structHash = keccak256(
            abi.encode(
                keccak256("Permit(address owner,address spender,uint256 value,uint256 nonce,uint256 deadline)"),
                holder,
                address(vault),
                amount,
                usdc.nonces(holder),
                deadline
            )
        );
        return vm.sign(key, keccak256(abi.encodePacked("\x19\x01", usdc.DOMAIN_SEPARATOR(), structHash)));
    }

    function test_depositWithPermit_depositsInOneCall() public {
        usdc.mint(alice, 50 * USDC);
        (uint8 v, bytes32 r, bytes32 s) = _permit(aliceKey, alice, 50 * USDC, block.timestamp);
        vm.expectEmit(true, true, true, true);
        emit IPayInboxVault.Deposited(alice, alice, 50 * USDC);
        vm.prank(alice);
        vault.depositWithPermit(50 * USDC, block.timestamp, v, r, s);
        assertEq(vault.balanceOf(alice), 50 * USDC);
        assertEq(usdc.allowance(alice, address(vault)), 0);
    }

    /// @dev Someone submits the permit first: the deposit still goes through on the allowance it created.
    function test_depositWithPermit_toleratesFrontRunPermit() public {
        usdc.mint(alice, 50 * USDC);
        (uint8 v, bytes32 r, bytes32 s) = _permit(aliceKey, alice, 50 * USDC, block.timestamp);
        usdc.permit(alice, address(vault), 50 * USDC, block.timestamp, v, r, s);
        vm.prank(alice);
        vault.depositWithPermit(50 * USDC, block.timestamp, v, r, s);
        assertEq(vault.balanceOf(alice), 50 * USDC);
    }

    function test_depositWithPermit_revertsOnBadPermitWithoutAllowance() public {
        usdc.mint(alice, 50 * USDC);
        (uint8 v, bytes32 r, bytes32 s) = _permit(bobKey, alice, 50 * USDC, block.timestamp);
        vm.prank(alice);
        vm.expectRevert(
            abi.encodeWithSelector(IERC20Errors.ERC20InsufficientAllowance.selector, address(vault), 0, 50 * USDC)
        );
        vault.depositWithPermit(50 * USDC, block.timestamp, v, r, s);
    }

    function test_depositWithPermit_revertsWhenPaused() public {
        vm.prank(owner);
        vault.pause();
        vm.prank(alice);
        vm.expectRevert(Pausable.EnforcedPause.selector);
        vault.depositWithPermit(1, block.timestamp, 27, bytes32(0), bytes32(0));
    }

    function test_depositWithPermit_revertsOnZero() public {
        vm.prank(alice);
        vm.expectRevert(IPayInboxVault.ZeroAmount.selector);
        vault.depositWithPermit(0, block.timestamp, 27, bytes32(0), bytes32(0));
    }

    // ───────────────────────────── withdraw / withdrawTo ─────────────────────────────

    function test_withdraw_sendsToCaller() public {
        _fund(alice, 10 * USDC);
        vm.expectEmit(true, true, true, true);
        emit IPayInboxVault.Withdrawn(alice, alice, 4 * USDC);
        vm.prank(alice);
        vault.withdraw(4 * USDC);
        assertEq(vault.balanceOf(alice), 6 * USDC);
        assertEq(usdc.balanceOf(alice), 4 * USDC);
        assertEq(usdc.balanceOf(address(vault)), 6 * USDC);
    }

    function test_withdraw_revertsOnZero() public {
        vm.prank(alice);
        vm.expectRevert(IPayInboxVault.ZeroAmount.selector);
        vault.withdraw(0);
    }

    function test_withdraw_revertsOnInsufficientBalance() public {
        _fund(alice, 10 * USDC);
        vm.prank(alice);
        vm.expectRevert(
            abi.encodeWithSelector(IPayInboxVault.InsufficientBalance.selector, alice, 10 * USDC, 10 * USDC + 1)
        );
        vault.withdraw(10 * USDC + 1);
    }

    /// @dev Users can always leave: pausing stops deposits and payments, never withdrawals.
    function test_withdraw_worksWhilePaused() public {
        _fund(alice, 10 * USDC);
        vm.prank(owner);
        vault.pause();
        vm.prank(alice);
        vault.withdraw(10 * USDC);
        assertEq(usdc.balanceOf(alice), 10 * USDC);
        vm.prank(alice);
        vm.expectRevert(Pausable.EnforcedPause.selector);
        vault.deposit(1);
    }

    function test_withdrawTo_sendsToOther() public {
        _fund(alice, 10 * USDC);
        vm.expectEmit(true, true, true, true);
        emit IPayInboxVault.Withdrawn(alice, carol, 3 * USDC);
        vm.prank(alice);
        vault.withdrawTo(carol, 3 * USDC);
        assertEq(usdc.balanceOf(carol), 3 * USDC);
        assertEq(vault.balanceOf(alice), 7 * USDC);
    }

    function test_withdrawTo_revertsOnZeroAddress() public {
        vm.prank(alice);
        vm.expectRevert(IPayInboxVault.ZeroAddress.selector);
        vault.withdrawTo(address(0), 1);
    }

    function test_withdrawTo_revertsOnInsufficientBalance() public {
        vm.prank(alice);
        vm.expectRevert(abi.encodeWithSelector(IPayInboxVault.InsufficientBalance.selector, alice, 0, 1));
        vault.withdrawTo(carol, 1);
    }

    function test_withdrawTo_worksWhilePaused() public {
        _fund(alice, 10 * USDC);
        vm.prank(owner);
        vault.pause();
        vm.prank(alice);
        vault.withdrawTo(carol, 10 * USDC);
        assertEq(usdc.balanceOf(carol), 10 * USDC);
    }

    // ───────────────────────────── reentrancy ─────────────────────────────

    function test_withdraw_blocksReentrancyFromToken() public {
        ReentrantToken rt = new ReentrantToken();
        PayInboxVault v = new PayInboxVault(IERC20(address(rt)), owner, feeRecipient, FEE_BPS);
        rt.mint(alice, 10);
        vm.startPrank(alice);
        rt.approve(address(v), 10);
        v.deposit(10);
        rt.arm(v, abi.encodeCall(IPayInboxVault.withdraw, (1)));
        vm.expectRevert(ReentrancyGuardTransient.ReentrancyGuardReentrantCall.selector);
        v.withdraw(5);
        vm.stopPrank();
    }

    function test_deposit_blocksReentrancyFromToken() public {
        ReentrantToken rt = new ReentrantToken();
        PayInboxVault v = new PayInboxVault(IERC20(address(rt)), owner, feeRecipient, FEE_BPS);
        rt.mint(alice, 10);
        vm.startPrank(alice);
        rt.approve(address(v), 10);
        rt.arm(v, abi.encodeCall(IPayInboxVault.deposit, (1)));
        vm.expectRevert(ReentrancyGuardTransient.ReentrancyGuardReentrantCall.selector);
        v.deposit(5);
        vm.stopPrank();
    }

    // ───────────────────────────── sendMessagePayment ─────────────────────────────

    function test_sendMessagePayment_movesAmountAndFee() public {
        _fund(alice, 10 * USDC);
        uint256 amount = 2 * USDC;
        uint256 fee = _fee(amount); // 50_000
        vm.expectEmit(true, true, true, true);
        emit IPayInboxVault.MessagePaid(alice, bob, keccak256("m"), amount, fee, keccak256("c"), 0, 3);
        vm.prank(alice);
        vault.sendMessagePayment(bob, keccak256("m"), keccak256("c"), 3, amount);
        assertEq(vault.balanceOf(alice), 10 * USDC - amount - fee);
        assertEq(vault.balanceOf(bob), amount);
        assertEq(vault.accruedFees(), fee);
        assertEq(vault.nonces(alice), 1);
        (uint256 bal, uint256 nonce) = vault.accountOf(alice);
        assertEq(bal, 10 * USDC - amount - fee);
        assertEq(nonce, 1);
    }

    function test_sendMessagePayment_noncesAreSequential() public {
        _fund(alice, 10 * USDC);
        for (uint256 i; i < 3; ++i) {
            vm.expectEmit(true, true, true, true);
            emit IPayInboxVault.MessagePaid(alice, bob, bytes32(i), USDC, _fee(USDC), bytes32(0), i, 0);
            vm.prank(alice);
            vault.sendMessagePayment(bob, bytes32(i), bytes32(0), 0, USDC);
        }
        assertEq(vault.nonces(alice), 3);
    }

    function test_sendMessagePayment_zeroFeeBelowOneBasisPointUnit() public {
        _fund(alice, 10 * USDC);
        vm.prank(alice);
        vault.sendMessagePayment(bob, bytes32(0), bytes32(0), 0, 39); // 39 * 250 / 10_000 = 0
        assertEq(vault.accruedFees(), 0);
        assertEq(vault.balanceOf(bob), 39);
        assertEq(vault.balanceOf(alice), 10 * USDC - 39);
    }

    function test_sendMessagePayment_revertsOnZeroAmount() public {
        vm.prank(alice);
        vm.expectRevert(IPayInboxVault.ZeroAmount.selector);
        vault.sendMessagePayment(bob, bytes32(0), bytes32(0), 0, 0);
    }

    function test_sendMessagePayment_revertsOnAmountTooLarge() public {
        vm.prank(alice);
        vm.expectRevert(abi.encodeWithSelector(IPayInboxVault.AmountTooLarge.selector, MAX128 + 1, MAX128));
        vault.sendMessagePayment(bob, bytes32(0), bytes32(0), 0, MAX128 + 1);
    }

    function test_sendMessagePayment_revertsOnZeroRecipient() public {
        vm.prank(alice);
        vm.expectRevert(abi.encodeWithSelector(IPayInboxVault.InvalidRecipient.selector, alice, address(0)));
        vault.sendMessagePayment(address(0), bytes32(0), bytes32(0), 0, 1);
    }

    function test_sendMessagePayment_revertsOnSelfPayment() public {
        vm.prank(alice);
        vm.expectRevert(abi.encodeWithSelector(IPayInboxVault.InvalidRecipient.selector, alice, alice));
        vault.sendMessagePayment(alice, bytes32(0), bytes32(0), 0, 1);
    }

    /// @dev The payer needs amount + fee, not just the amount.
    function test_sendMessagePayment_revertsWhenFeeNotCovered() public {
        _fund(alice, 2 * USDC);
        vm.prank(alice);
        vm.expectRevert(
            abi.encodeWithSelector(IPayInboxVault.InsufficientBalance.selector, alice, 2 * USDC, 2 * USDC + 50_000)
        );
        vault.sendMessagePayment(bob, bytes32(0), bytes32(0), 0, 2 * USDC);
    }

    function test_sendMessagePayment_revertsWhenPaused() public {
        _fund(alice, 10 * USDC);
        vm.prank(owner);
        vault.pause();
        vm.prank(alice);
        vm.expectRevert(Pausable.EnforcedPause.selector);
        vault.sendMessagePayment(bob, bytes32(0), bytes32(0), 0, 1);
    }

    function test_sendMessagePayment_revertsOnRecipientOverflow() public {
        _fund(bob, MAX128);
        _fund(alice, 10);
        vm.prank(alice);
        vm.expectRevert(abi.encodeWithSelector(IPayInboxVault.AmountTooLarge.selector, 1, 0));
        vault.sendMessagePayment(bob, bytes32(0), bytes32(0), 0, 1);
    }

    // ───────────────────────────── payWithSig ─────────────────────────────

    function test_payWithSig_settlesForAnyCaller() public {
        _fund(alice, 10 * USDC);
        IPayInboxVault.Payment memory p = _payment(alice, bob, 3 * USDC, 0);
        bytes memory sig = _sign(aliceKey, p);
        vm.expectEmit(true, true, true, true);
        emit IPayInboxVault.MessagePaid(alice, bob, p.messageId, p.amount, _fee(p.amount), p.contentHash, 0, 7);
        vm.prank(carol);
        vault.payWithSig(p, 7, sig);
        assertEq(vault.balanceOf(alice), 10 * USDC - 3 * USDC - _fee(3 * USDC));
        assertEq(vault.balanceOf(bob), 3 * USDC);
        assertEq(vault.accruedFees(), _fee(3 * USDC));
        assertEq(vault.nonces(alice), 1);
    }

    function test_payWithSig_acceptsDeadlineEqualToNow() public {
        _fund(alice, 10 * USDC);
        IPayInboxVault.Payment memory p = _payment(alice, bob, USDC, 0);
        p.deadline = block.timestamp;
        vault.payWithSig(p, 0, _sign(aliceKey, p));
        assertEq(vault.nonces(alice), 1);
    }

    function test_payWithSig_revertsOnExpired() public {
        _fund(alice, 10 * USDC);
        IPayInboxVault.Payment memory p = _payment(alice, bob, USDC, 0);
        bytes memory sig = _sign(aliceKey, p);
        vm.warp(p.deadline + 1);
        vm.expectRevert(abi.encodeWithSelector(IPayInboxVault.PaymentExpired.selector, p.deadline, p.deadline + 1));
        vault.payWithSig(p, 0, sig);
    }

    function test_payWithSig_revertsOnFutureNonce() public {
        _fund(alice, 10 * USDC);
        IPayInboxVault.Payment memory p = _payment(alice, bob, USDC, 1);
        bytes memory sig = _sign(aliceKey, p);
        vm.expectRevert(abi.encodeWithSelector(IPayInboxVault.InvalidNonce.selector, alice, 0, 1));
        vault.payWithSig(p, 0, sig);
    }

    function test_payWithSig_revertsOnWrongSigner() public {
        _fund(alice, 10 * USDC);
        IPayInboxVault.Payment memory p = _payment(alice, bob, USDC, 0);
        bytes memory sig = _sign(bobKey, p);
        vm.expectRevert(abi.encodeWithSelector(IPayInboxVault.InvalidSignature.selector, alice));
        vault.payWithSig(p, 0, sig);
    }

    function test_payWithSig_revertsOnInsufficientBalance() public {
        _fund(alice, USDC);
        IPayInboxVault.Payment memory p = _payment(alice, bob, USDC, 0);
        bytes memory sig = _sign(aliceKey, p);
        vm.expectRevert(
            abi.encodeWithSelector(IPayInboxVault.InsufficientBalance.selector, alice, USDC, USDC + _fee(USDC))
        );
        vault.payWithSig(p, 0, sig);
    }

    function test_payWithSig_revertsOnZeroAmount() public {
        IPayInboxVault.Payment memory p = _payment(alice, bob, 0, 0);
        bytes memory sig = _sign(aliceKey, p);
        vm.expectRevert(IPayInboxVault.ZeroAmount.selector);
        vault.payWithSig(p, 0, sig);
    }

    function test_payWithSig_revertsOnAmountTooLarge() public {
        IPayInboxVault.Payment memory p = _payment(alice, bob, MAX128 + 1, 0);
        bytes memory sig = _sign(aliceKey, p);
        vm.expectRevert(abi.encodeWithSelector(IPayInboxVault.AmountTooLarge.selector, MAX128 + 1, MAX128));
        vault.payWithSig(p, 0, sig);
    }

    function test_payWithSig_revertsOnInvalidRecipient() public {
        IPayInboxVault.Payment memory p = _payment(alice, alice, USDC, 0);
        bytes memory sig = _sign(aliceKey, p);
        vm.expectRevert(abi.encodeWithSelector(IPayInboxVault.InvalidRecipient.selector, alice, alice));
        vault.payWithSig(p, 0, sig);
    }

    function test_payWithSig_revertsOnRecipientOverflow() public {
        _fund(bob, MAX128);
        _fund(alice, 10);
        IPayInboxVault.Payment memory p = _payment(alice, bob, 1, 0);
        bytes memory sig = _sign(aliceKey, p);
        vm.expectRevert(abi.encodeWithSelector(IPayInboxVault.AmountTooLarge.selector, 1, 0));
        vault.payWithSig(p, 0, sig);
    }

    function test_payWithSig_revertsWhenPaused() public {
        _fund(alice, 10 * USDC);
        IPayInboxVault.Payment memory p = _payment(alice, bob, USDC, 0);
        bytes memory sig = _sign(aliceKey, p);
        vm.prank(owner);
        vault.pause();
        vm.expectRevert(Pausable.EnforcedPause.selector);
        vault.payWithSig(p, 0, sig);
    }

    // ───────────────────────────── settleBatch ─────────────────────────────

    function _signed(uint256 key, IPayInboxVault.Payment memory p)
        internal
        view
        returns (IPayInboxVault.SignedPayment memory)
    {
        return IPayInboxVault.SignedPayment({payment: p, channel: 2, signature: _sign(key, p)});
    }

    function test_settleBatch_settlesAllAndAccruesOnce() public {
        _fund(alice, 100 * USDC);
        _fund(bob, 100 * USDC);
        IPayInboxVault.SignedPayment[] memory batch = new IPayInboxVault.SignedPayment[](3);
        batch[0] = _signed(aliceKey, _payment(alice, carol, 1 * USDC, 0));
        batch[1] = _signed(aliceKey, _payment(alice, bob, 2 * USDC, 1)); // same payer, next nonce
        batch[2] = _signed(bobKey, _payment(bob, carol, 4 * USDC, 0));
        for (uint256 i; i < 3; ++i) {
            IPayInboxVault.Payment memory p = batch[i].payment;
            vm.expectEmit(true, true, true, true);
            emit IPayInboxVault.MessagePaid(
                p.payer, p.recipient, p.messageId, p.amount, _fee(p.amount), p.contentHash, p.nonce, 2
            );
        }
        vm.prank(carol);
        uint256 settled = vault.settleBatch(batch);
        assertEq(settled, 3);
        assertEq(vault.balanceOf(alice), 100 * USDC - 3 * USDC - _fee(USDC) - _fee(2 * USDC));
        assertEq(vault.balanceOf(bob), 100 * USDC + 2 * USDC - 4 * USDC - _fee(4 * USDC));
        assertEq(vault.balanceOf(carol), 5 * USDC);
        assertEq(vault.accruedFees(), _fee(USDC) + _fee(2 * USDC) + _fee(4 * USDC));
        assertEq(vault.nonces(alice), 2);
        assertEq(vault.nonces(bob), 1);
    }

    /// @dev Each failing payment is skipped with its reason; the rest settle.
    function test_settleBatch_skipsFailuresWithReason() public {
        _fund(alice, 100 * USDC);
        _fund(bob, 1 * USDC);
        IPayInboxVault.SignedPayment[] memory batch = new IPayInboxVault.SignedPayment[](8);
        batch[0] = _signed(aliceKey, _payment(alice, carol, USDC, 0)); // ok
        batch[1] = _signed(aliceKey, _payment(alice, carol, USDC, 0)); // replay of [0]
        batch[2] = _signed(bobKey, _payment(bob, carol, USDC, 0)); // fee not covered
        batch[3] = _signed(bobKey, _payment(alice, carol, USDC, 1)); // wrong signer
        IPayInboxVault.Payment memory expired = _payment(alice, carol, USDC, 1);
        expired.deadline = block.timestamp - 1;
        batch[4] = _signed(aliceKey, expired); // expired
        batch[5] = _signed(aliceKey, _payment(alice, address(0), USDC, 1)); // bad recipient
        batch[6] = _signed(aliceKey, _payment(alice, carol, 0, 1)); // zero amount
        batch[7] = _signed(aliceKey, _payment(alice, bob, 2 * USDC, 1)); // ok

        bytes4[8] memory reasons = [
            bytes4(0),
            IPayInboxVault.InvalidNonce.selector,
            IPayInboxVault.InsufficientBalance.selector,
            IPayInboxVault.InvalidSignature.selector,
            IPayInboxVault.PaymentExpired.selector,
            IPayInboxVault.InvalidRecipient.selector,
            IPayInboxVault.ZeroAmount.selector,
            bytes4(0)
        ];
        for (uint256 i; i < 8; ++i) {
            IPayInboxVault.Payment memory p = batch[i].payment;
            vm.expectEmit(true, true, true, true);
            if (reasons[i] == bytes4(0)) {
                emit IPayInboxVault.MessagePaid(
                    p.payer, p.recipient, p.messageId, p.amount, _fee(p.amount), p.contentHash, p.nonce, 2
                );
            } else {
                emit IPayInboxVault.PaymentSkipped(p.payer, p.messageId, p.nonce, reasons[i]);
            }
        }
        assertEq(vault.settleBatch(batch), 2);
        assertEq(vault.balanceOf(carol), USDC);
        assertEq(vault.balanceOf(bob), 3 * USDC);
        assertEq(vault.balanceOf(alice), 100 * USDC - 3 * USDC - _fee(USDC) - _fee(2 * USDC));
        assertEq(vault.nonces(alice), 2);
        assertEq(vault.nonces(bob), 0);
    }

    function test_settleBatch_skipsAmountTooLargeAndRecipientOverflow() public {
        _fund(bob, MAX128);
        _fund(alice, 10);
        IPayInboxVault.SignedPayment[] memory batch = new IPayInboxVault.SignedPayment[](2);
        batch[0] = _signed(aliceKey, _payment(alice, carol, MAX128 + 1, 0));
        batch[1] = _signed(aliceKey, _payment(alice, bob, 1, 0));
        vm.expectEmit(true, true, true, true);
        emit IPayInboxVault.PaymentSkipped(alice, batch[0].payment.messageId, 0, IPayInboxVault.AmountTooLarge.selector);
        vm.expectEmit(true, true, true, true);
        emit IPayInboxVault.PaymentSkipped(alice, batch[1].payment.messageId, 0, IPayInboxVault.AmountTooLarge.selector);
        assertEq(vault.settleBatch(batch), 0);
        assertEq(vault.accruedFees(), 0);
    }

    function test_settleBatch_revertsOnEmpty() public {
        vm.expectRevert(IPayInboxVault.EmptyBatch.selector);
        vault.settleBatch(new IPayInboxVault.SignedPayment[](0));
    }

    function test_settleBatch_revertsWhenPaused() public {
        vm.prank(owner);
        vault.pause();
        vm.expectRevert(Pausable.EnforcedPause.selector);
        vault.settleBatch(new IPayInboxVault.SignedPayment[](1));
    }

    // ───────────────────────────── invalidateNonces ─────────────────────────────

    function test_invalidateNonces_cancelsSignedPayments() public {
        _fund(alice, 10 * USDC);
        IPayInboxVault.Payment memory p = _payment(alice, bob, USDC, 0);
        bytes memory sig = _sign(aliceKey, p);
        vm.expectEmit(true, true, true, true);
        emit IPayInboxVault.NoncesInvalidated(alice, 0, 5);
        vm.prank(alice);
        vault.invalidateNonces(5);
        assertEq(vault.nonces(alice), 5);
        vm.expectRevert(abi.encodeWithSelector(IPayInboxVault.InvalidNonce.selector, alice, 5, 0));
        vault.payWithSig(p, 0, sig);
        assertEq(vault.balanceOf(alice), 10 * USDC, "balance untouched");
    }

    function test_invalidateNonces_revertsIfNotRaised() public {
        vm.startPrank(alice);
        vault.invalidateNonces(3);
        vm.expectRevert(abi.encodeWithSelector(IPayInboxVault.InvalidNonceIncrease.selector, 3, 3));
        vault.invalidateNonces(3);
        vm.expectRevert(abi.encodeWithSelector(IPayInboxVault.InvalidNonceIncrease.selector, 3, 2));
        vault.invalidateNonces(2);
        vm.stopPrank();
    }

    function test_invalidateNonces_revertsOnHugeJump() public {
        uint256 tooFar = uint256(type(uint64).max) + 1;
        vm.prank(alice);
        vm.expectRevert(abi.encodeWithSelector(IPayInboxVault.InvalidNonceIncrease.selector, 0, tooFar));
        vault.invalidateNonces(tooFar);
        vm.prank(alice);
        vault.invalidateNonces(type(uint64).max);
        assertEq(vault.nonces(alice), type(uint64).max);
    }

    // ───────────────────────────── fees ─────────────────────────────

    function test_collectFees_creditsFeeRecipient() public {
        _fund(alice, 100 * USDC);
        vm.prank(alice);
        vault.sendMessagePayment(bob, bytes32(0), bytes32(0), 0, 10 * USDC);
        uint256 fee = _fee(10 * USDC);
        vm.expectEmit(true, true, true, true);
        emit IPayInboxVault.FeesCollected(feeRecipient, fee);
        vm.prank(carol); // anyone
        vault.collectFees();
        assertEq(vault.accruedFees(), 0);
        assertEq(vault.balanceOf(feeRecipient), fee);
        vm.prank(feeRecipient);
        vault.withdraw(fee);
        assertEq(usdc.balanceOf(feeRecipient), fee);
    }

    function test_collectFees_noopWhenNothingAccrued() public {
        vm.recordLogs();
        vault.collectFees();
        assertEq(vm.getRecordedLogs().length, 0);
        assertEq(vault.balanceOf(feeRecipient), 0);
    }

    /// @dev A fee that would overflow the 72-bit accrual counter is credited to the fee recipient at once.
    function test_accrue_overflowCreditsFeeRecipient() public {
        vm.prank(owner);
        vault.setFeeBps(1000);
        uint256 amount = uint256(type(uint72).max) * 10 + 10; // fee = 2^72
        _fund(alice, amount + amount / 10);
        vm.expectEmit(true, true, true, true);
        emit IPayInboxVault.FeesCollected(feeRecipient, amount / 10);
        vm.prank(alice);
        vault.sendMessagePayment(bob, bytes32(0), bytes32(0), 0, amount);
        assertEq(vault.accruedFees(), 0);
        assertEq(vault.balanceOf(feeRecipient), amount / 10);
        assertEq(vault.balanceOf(alice), 0);
    }

    function test_feeFor_matchesFormula() public view {
        assertEq(vault.feeFor(1_000_000), 25_000);
        assertEq(vault.feeFor(39), 0);
        assertEq(vault.feeFor(40), 1);
    }

    function test_feeFor_revertsAboveMax() public {
        vm.expectRevert(abi.encodeWithSelector(IPayInboxVault.AmountTooLarge.selector, MAX128 + 1, MAX128));
        vault.feeFor(MAX128 + 1);
    }

    function test_setFeeBps_updatesAndApplies() public {
        vm.expectEmit(true, true, true, true);
        emit IPayInboxVault.FeeBpsUpdated(FEE_BPS, 1000);
        vm.prank(owner);
        vault.setFeeBps(1000);
        assertEq(vault.feeBps(), 1000);
        _fund(alice, 100 * USDC);
        vm.prank(alice);
        vault.sendMessagePayment(bob, bytes32(0), bytes32(0), 0, 10 * USDC);
        assertEq(vault.accruedFees(), USDC);
        vm.prank(owner);
        vault.setFeeBps(0);
        vm.prank(alice);
        vault.sendMessagePayment(bob, bytes32(0), bytes32(0), 0, 10 * USDC);
        assertEq(vault.accruedFees(), USDC);
    }

    function test_setFeeBps_revertsAboveCap() public {
        vm.prank(owner);
        vm.expectRevert(abi.encodeWithSelector(IPayInboxVault.FeeTooHigh.selector, 1001, 1000));
        vault.setFeeBps(1001);
    }

    function test_setFeeBps_revertsForNonOwner() public {
        vm.prank(alice);
        vm.expectRevert(abi.encodeWithSelector(Ownable.OwnableUnauthorizedAccount.selector, alice));
        vault.setFeeBps(1);
    }

    function test_setFeeRecipient_collectsToOldThenSwitches() public {
        _fund(alice, 100 * USDC);
        vm.prank(alice);
        vault.sendMessagePayment(bob, bytes32(0), bytes32(0), 0, 10 * USDC);
        uint256 fee = _fee(10 * USDC);
        vm.expectEmit(true, true, true, true);
        emit IPayInboxVault.FeesCollected(feeRecipient, fee);
        vm.expectEmit(true, true, true, true);
        emit IPayInboxVault.FeeRecipientUpdated(feeRecipient, carol);
        vm.prank(owner);
        vault.setFeeRecipient(carol);
        assertEq(vault.feeRecipient(), carol);
        assertEq(vault.balanceOf(feeRecipient), fee);
        vm.prank(alice);
        vault.sendMessagePayment(bob, bytes32(0), bytes32(0), 0, 10 * USDC);
        vault.collectFees();
        assertEq(vault.balanceOf(carol), fee);
    }

    function test_setFeeRecipient_revertsOnZero() public {
        vm.prank(owner);
        vm.expectRevert(IPayInboxVault.ZeroAddress.selector);
        vault.setFeeRecipient(address(0));
    }

    function test_setFeeRecipient_revertsForNonOwner() public {
        vm.prank(alice);
        vm.expectRevert(abi.encodeWithSelector(Ownable.OwnableUnauthorizedAccount.selector, alice));
        vault.setFeeRecipient(alice);
    }

    // ───────────────────────────── pause ─────────────────────────────

    function test_pause_unpause() public {
        vm.expectEmit(true, true, true, true);
        emit Pausable.Paused(owner);
        vm.prank(owner);
        vault.pause();
        assertTrue(vault.paused());
        vm.prank(owner);
        vm.expectRevert(Pausable.EnforcedPause.selector);
        vault.pause();
        vm.expectEmit(true, true, true, true);
        emit Pausable.Unpaused(owner);
        vm.prank(owner);
        vault.unpause();
        assertFalse(vault.paused());
        vm.prank(owner);
        vm.expectRevert(Pausable.ExpectedPause.selector);
        vault.unpause();
    }

    function test_pause_revertsForNonOwner() public {
        vm.prank(alice);
        vm.expectRevert(abi.encodeWithSelector(Ownable.OwnableUnauthorizedAccount.selector, alice));
        vault.pause();
    }

    function test_unpause_revertsForNonOwner() public {
        vm.prank(owner);
        vault.pause();
        vm.prank(alice);
        vm.expectRevert(abi.encodeWithSelector(Ownable.OwnableUnauthorizedAccount.selector, alice));
        vault.unpause();
    }

    /// @dev invalidateNonces and collectFees move no tokens and stay available while paused.
    function test_pause_leavesNonceAndFeeHousekeeping() public {
        vm.prank(owner);
        vault.pause();
        vm.prank(alice);
        vault.invalidateNonces(1);
        vault.collectFees();
        assertEq(vault.nonces(alice), 1);
    }

    // ───────────────────────────── rescue ─────────────────────────────

    function test_rescueToken_sendsForeignToken() public {
        MockUSDC other = new MockUSDC();
        other.mint(address(vault), 5);
        vm.expectEmit(true, true, true, true);
        emit IPayInboxVault.TokenRescued(address(other), carol, 5);
        vm.prank(owner);
        vault.rescueToken(address(other), carol, 5);
        assertEq(other.balanceOf(carol), 5);
    }

    function test_rescueToken_revertsOnVaultToken() public {
        vm.prank(owner);
        vm.expectRevert(IPayInboxVault.CannotRescueVaultToken.selector);
        vault.rescueToken(address(usdc), carol, 1);
    }

    function test_rescueToken_revertsOnZeroTo() public {
        vm.prank(owner);
        vm.expectRevert(IPayInboxVault.ZeroAddress.selector);
        vault.rescueToken(address(1234), address(0), 1);
    }

    function test_rescueToken_revertsForNonOwner() public {
        vm.prank(alice);
        vm.expectRevert(abi.encodeWithSelector(Ownable.OwnableUnauthorizedAccount.selector, alice));
        vault.rescueToken(address(1234), alice, 1);
    }

    // ───────────────────────────── ownership ─────────────────────────────

    function test_ownership_twoStep() public {
        vm.prank(owner);
        vault.transferOwnership(alice);
        assertEq(vault.owner(), owner);
        assertEq(vault.pendingOwner(), alice);
        vm.prank(bob);
        vm.expectRevert(abi.encodeWithSelector(Ownable.OwnableUnauthorizedAccount.selector, bob));
        Ownable2Step(address(vault)).acceptOwnership();
        vm.prank(alice);
        vault.acceptOwnership();
        assertEq(vault.owner(), alice);
    }

    // ───────────────────────────── reads ─────────────────────────────

    function test_hashPayment_matchesIndependentDigest() public view {
        IPayInboxVault.Payment memory p = _payment(alice, bob, 123, 9);
        assertEq(vault.hashPayment(p), _digest(p, block.chainid, address(vault)));
    }

    function test_domainSeparator_matchesEip712Domain() public view {
        (, string memory name, string memory version, uint256 chainId, address verifying,,) = vault.eip712Domain();
        assertEq(name, "PayInboxVault");
        assertEq(version, "1");
        assertEq(chainId, block.chainid);
        assertEq(verifying, address(vault));
        bytes32 expected = keccak256(
            abi.encode(
                keccak256("EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)"),
                keccak256("PayInboxVault"),
                keccak256("1"),
                block.chainid,
                address(vault)
            )
        );
        assertEq(vault.DOMAIN_SEPARATOR(), expected);
    }

    function test_paymentTypehash() public view {
        assertEq(
            vault.PAYMENT_TYPEHASH(),
            keccak256(
                "Payment(address payer,address recipient,bytes32 messageId,bytes32 contentHash,uint256 amount,uint256 nonce,uint256 deadline)"
            )
        );
    }
}
