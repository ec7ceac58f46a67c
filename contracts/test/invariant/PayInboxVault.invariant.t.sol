// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {Test} from "forge-std/Test.sol";

import {MockUSDC} from "../../src/MockUSDC.sol";
import {PayInboxVault} from "../../src/PayInboxVault.sol";
import {VaultHandler} from "./VaultHandler.sol";

/// @dev Invariants of the vault under random deposits, withdrawals, payments (direct, relayed, batched, packed), nonce
///      invalidations, fee changes and pauses.
contract PayInboxVaultInvariantTest is Test {
    MockUSDC internal usdc;
    PayInboxVault internal vault;
    VaultHandler internal handler;

    function setUp() public {
        usdc = new MockUSDC();
        address owner = makeAddr("owner");
        vault = new PayInboxVault(usdc, owner, makeAddr("feeRecipient"), 250);
        handler = new VaultHandler(vault, usdc, owner, makeAddr("feeRecipient"));

        bytes4[] memory selectors = new bytes4[](12);
        selectors[0] = VaultHandler.deposit.selector;
        selectors[1] = VaultHandler.deposit.selector; // deposits twice as likely: keeps money flowing
        selectors[2] = VaultHandler.withdraw.selector;
        selectors[3] = VaultHandler.sendMessagePayment.selector;
        selectors[4] = VaultHandler.payWithSig.selector;
        selectors[5] = VaultHandler.settleBatch.selector;
        selectors[6] = VaultHandler.invalidateNonces.selector;
        selectors[7] = VaultHandler.collectFees.selector;
        selectors[8] = VaultHandler.setFeeBps.selector;
        selectors[9] = VaultHandler.togglePause.selector;
        selectors[10] = VaultHandler.warp.selector;
        selectors[11] = VaultHandler.settleBatchPacked.selector;
        targetSelector(FuzzSelector({addr: address(handler), selectors: selectors}));
        targetContract(address(handler));
    }

    function _sumBalances() internal view returns (uint256 sum) {
        for (uint256 i; i < handler.actorCount(); ++i) {
            sum += vault.balanceOf(handler.actors(i));
        }
    }

    // The vault holds exactly the tokens it owes: its token balance equals the sum of all internal balances plus
    // the fees accrued and not yet collected.
    function invariant_tokenBalanceEqualsInternalBalances() public view {
        assertEq(usdc.balanceOf(address(vault)), _sumBalances() + vault.accruedFees());
    }

    // Tokens are conserved end to end: everything deposited less everything withdrawn is still in the vault.
    function invariant_depositsLessWithdrawalsInVault() public view {
        assertEq(usdc.balanceOf(address(vault)), handler.ghost_depositSum() - handler.ghost_withdrawSum());
    }

    // No balance ever exceeds what was put in for it: each account's balance is exactly its deposits, payments
    // received and fees collected, less its withdrawals and payments made (amount + fee) — never more.
    function invariant_balancesMatchGhostBooks() public view {
        for (uint256 i; i < handler.actorCount(); ++i) {
            address a = handler.actors(i);
            assertEq(vault.balanceOf(a), handler.ghost_in(a) - handler.ghost_out(a));
            assertLe(vault.balanceOf(a), handler.ghost_in(a));
        }
        assertLe(_sumBalances(), handler.ghost_depositSum());
    }

    // Fees are neither created nor lost: accrued + collected == the sum of the fees of all settled payments.
    function invariant_feesAccountedFor() public view {
        assertEq(vault.accruedFees() + handler.ghost_feesCollected(), handler.ghost_feeSum());
    }

    // Nonces only rise, checked after every handler call.
    function invariant_noncesOnlyRise() public view {
        assertFalse(handler.ghost_nonceWentDown());
    }

    // While paused, no deposit or payment ever succeeds.
    function invariant_pauseStopsDepositsAndPayments() public view {
        assertFalse(handler.ghost_pausedActionSucceeded());
    }
}
