// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {IPayInboxVault} from "../src/interfaces/IPayInboxVault.sol";
import {BaseTest} from "./utils/BaseTest.sol";

/// @dev Fuzz tests of the payment and fee math.
contract PayInboxVaultFuzzTest is BaseTest {
    uint256 internal constant MAX128 = type(uint128).max;

    /// @dev fee = floor(amount * feeBps / 10_000) for every amount and fee rate, never above the cap share.
    function testFuzz_feeFor_matchesFloorFormula(uint256 amount, uint256 feeBps) public {
        amount = bound(amount, 0, MAX128);
        feeBps = bound(feeBps, 0, vault.MAX_FEE_BPS());
        vm.prank(owner);
        vault.setFeeBps(feeBps);
        uint256 fee = vault.feeFor(amount);
        assertEq(fee, amount * feeBps / 10_000);
        assertLe(fee * 10_000, amount * feeBps);
        assertLe(fee, amount / 10);
    }

    /// @dev A direct payment debits amount + fee, credits amount, accrues fee, and conserves tokens.
    function testFuzz_sendMessagePayment_conserves(uint256 deposit, uint256 amount, uint256 feeBps, uint8 channel)
        public
    {
        deposit = bound(deposit, 1, MAX128);
        feeBps = bound(feeBps, 0, 1000);
        vm.prank(owner);
        vault.setFeeBps(feeBps);
        uint256 maxAmount = deposit * 10_000 / (10_000 + feeBps); // amount + floor fee ≤ deposit
        amount = bound(amount, 1, maxAmount == 0 ? 1 : maxAmount);
        _fund(alice, deposit);
        uint256 fee = amount * feeBps / 10_000;
        if (amount + fee > deposit) {
            vm.expectRevert(
                abi.encodeWithSelector(IPayInboxVault.InsufficientBalance.selector, alice, deposit, amount + fee)
            );
            vm.prank(alice);
            vault.sendMessagePayment(bob, bytes32(0), bytes32(0), channel, amount);
            return;
        }
        vm.prank(alice);
        vault.sendMessagePayment(bob, bytes32(0), bytes32(0), channel, amount);
        assertEq(vault.balanceOf(alice), deposit - amount - fee);
        assertEq(vault.balanceOf(bob), amount);
        // A fee past the 72-bit accrual counter is credited to the fee recipient at once.
        assertEq(vault.accruedFees() + vault.balanceOf(feeRecipient), fee);
        assertEq(
            vault.balanceOf(alice) + vault.balanceOf(bob) + vault.balanceOf(feeRecipient) + vault.accruedFees(),
            usdc.balanceOf(address(vault))
        );
    }

    /// @dev Any amount above balance - fee reverts with the exact needed figure and moves nothing.
    function testFuzz_sendMessagePayment_insufficient(uint256 deposit, uint256 amount) public {
        deposit = bound(deposit, 0, MAX128 / 2);
        if (deposit > 0) _fund(alice, deposit);
        amount = bound(amount, 1, MAX128);
        uint256 needed = amount + amount * FEE_BPS / 10_000;
        vm.assume(needed > deposit);
        vm.expectRevert(abi.encodeWithSelector(IPayInboxVault.InsufficientBalance.selector, alice, deposit, needed));
        vm.prank(alice);
        vault.sendMessagePayment(bob, bytes32(0), bytes32(0), 0, amount);
    }

    /// @dev A relayed payment moves exactly what a direct one would.
    function testFuzz_payWithSig_matchesDirect(uint256 amount, uint256 feeBps) public {
        amount = bound(amount, 1, 1e15);
        feeBps = bound(feeBps, 0, 1000);
        vm.prank(owner);
        vault.setFeeBps(feeBps);
        uint256 fee = amount * feeBps / 10_000;
        _fund(alice, amount + fee);
        IPayInboxVault.Payment memory p = _payment(alice, bob, amount, 0);
        vault.payWithSig(p, 0, _sign(aliceKey, p));
        assertEq(vault.balanceOf(alice), 0);
        assertEq(vault.balanceOf(bob), amount);
        assertEq(vault.accruedFees(), fee);
        vault.collectFees();
        assertEq(vault.balanceOf(feeRecipient), fee);
        assertEq(usdc.balanceOf(address(vault)), amount + fee);
    }

    /// @dev Batch fees accrue to exactly the sum of per-payment floor fees; per-payment rounding is kept.
    function testFuzz_settleBatch_feeSum(uint256[5] memory amounts, uint256 feeBps) public {
        feeBps = bound(feeBps, 0, 1000);
        vm.prank(owner);
        vault.setFeeBps(feeBps);
        _fund(alice, 1e18);
        IPayInboxVault.SignedPayment[] memory batch = new IPayInboxVault.SignedPayment[](5);
        uint256 fees;
        uint256 paid;
        for (uint256 i; i < 5; ++i) {
            amounts[i] = bound(amounts[i], 1, 1e15);
            IPayInboxVault.Payment memory p = _payment(alice, i % 2 == 0 ? bob : carol, amounts[i], i);
            batch[i] = IPayInboxVault.SignedPayment({payment: p, channel: 0, signature: _sign(aliceKey, p)});
            fees += amounts[i] * feeBps / 10_000;
            paid += amounts[i];
        }
        assertEq(vault.settleBatch(batch), 5);
        assertEq(vault.accruedFees(), fees);
        assertEq(vault.balanceOf(bob) + vault.balanceOf(carol), paid);
        assertEq(vault.balanceOf(alice), 1e18 - paid - fees);
        assertEq(vault.nonces(alice), 5);
    }

    /// @dev Deposits and withdrawals move tokens one for one.
    function testFuzz_depositWithdraw(uint256 deposit, uint256 withdrawal) public {
        deposit = bound(deposit, 1, MAX128);
        withdrawal = bound(withdrawal, 1, deposit);
        _fund(alice, deposit);
        vm.prank(alice);
        vault.withdraw(withdrawal);
        assertEq(vault.balanceOf(alice), deposit - withdrawal);
        assertEq(usdc.balanceOf(alice), withdrawal);
        assertEq(usdc.balanceOf(address(vault)), deposit - withdrawal);
    }

    /// @dev Random bytes never pass as a signature.
    function testFuzz_randomSignatureRejected(bytes calldata sig) public {
        _fund(alice, 10 * USDC);
        IPayInboxVault.Payment memory p = _payment(alice, bob, USDC, 0);
        vm.expectRevert(abi.encodeWithSelector(IPayInboxVault.InvalidSignature.selector, alice));
        vault.payWithSig(p, 0, sig);
    }
}
