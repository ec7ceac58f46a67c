// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {IPayInboxVault} from "../../src/interfaces/IPayInboxVault.sol";
import {BaseTest} from "../utils/BaseTest.sol";
import {PlainVault} from "./PlainVault.sol";

/// @dev Transaction-level gas (21,000 intrinsic and calldata included), as `forge test --gas-report` shows.
///      Must run with `forge test --isolate` (npm run test:contracts does): only then is every call from the test
///      its own transaction and does `vm.snapshotGasLastCall` record that figure. Without it, every test here is
///      skipped so the committed snapshots are never overwritten with warm in-frame figures.
contract PayInboxVaultGasTest is BaseTest {
    string internal constant GROUP = "PayInboxVault";

    PlainVault internal plain;

    function setUp() public override {
        super.setUp();
        plain = new PlainVault(usdc, feeRecipient, FEE_BPS);
        // Probe: an isolated (state-changing) call costs at least the 21,000 intrinsic gas.
        usdc.mint(address(this), 0);
        if (vm.lastCallGas().gasTotalUsed < 21_000) vm.skip(true, "gas tests need forge test --isolate");
    }

    function _record(string memory name, uint256 limit) internal returns (uint256 gasUsed) {
        gasUsed = vm.snapshotGasLastCall(GROUP, name);
        assertLe(gasUsed, limit, name);
    }

    // ───────────────────────────── PayInboxVault ─────────────────────────────

    /// @dev A repeat payment: same payer and recipient as a previous one (all slots already non-zero).
    function test_gas_sendMessagePayment_warm() public {
        _fund(alice, 1000 * USDC);
        vm.prank(alice);
        vault.sendMessagePayment(bob, keccak256("m1"), keccak256("c1"), 1, 2 * USDC);
        vm.prank(alice);
        vault.sendMessagePayment(bob, keccak256("m2"), keccak256("c2"), 1, 2 * USDC);
        _record("sendMessagePayment_warm", 44_000);
    }

    /// @dev A repeat deposit by a user who holds a balance and approved the vault once for the maximum (approve
    ///      once, deposit many times), so the token does not rewrite the allowance.
    function test_gas_deposit_warm() public {
        _depositTwice(address(vault), type(uint256).max);
        _record("deposit_warm", 50_000);
    }

    /// @dev The same repeat deposit under a finite allowance: the token also rewrites the allowance (+2,900).
    function test_gas_deposit_warm_finiteAllowance() public {
        _depositTwice(address(vault), 500 * USDC);
        vm.snapshotGasLastCall(GROUP, "deposit_warm_finiteAllowance");
    }

    /// @dev A partial withdrawal to a holder of the token.
    function test_gas_withdraw_partial() public {
        _fund(alice, 1000 * USDC);
        usdc.mint(alice, 1);
        vm.prank(alice);
        vault.withdraw(100 * USDC);
        _record("withdraw_partial", 45_000);
    }

    /// @dev 50 relayed payments, 50 payers, 10 recipients that already hold balances; total gas / 50.
    function test_gas_settleBatch_50_perMessage() public {
        IPayInboxVault.SignedPayment[] memory batch = _batch(50, 10, true);
        vault.settleBatch(batch);
        uint256 total = vm.snapshotGasLastCall(GROUP, "settleBatch_50_total");
        vm.snapshotValue(GROUP, "settleBatch_50_perMessage", total / 50);
        assertLe(total / 50, 24_000, "settleBatch_50_perMessage");
    }

    /// @dev The same batch to 10 recipients whose first credit creates their slot (20,000 gas each).
    function test_gas_settleBatch_50_perMessage_freshRecipients() public {
        IPayInboxVault.SignedPayment[] memory batch = _batch(50, 10, false);
        vault.settleBatch(batch);
        uint256 total = vm.snapshotGasLastCall(GROUP, "settleBatch_50_freshRecipients_total");
        vm.snapshotValue(GROUP, "settleBatch_50_perMessage_freshRecipients", total / 50);
    }

    /// @dev The same 50 payments through `settleBatchPacked` (EIP-2098 compact signatures). Target: ≤ 18,000.
    function test_gas_settleBatchPacked_50_perMessage() public {
        bytes memory batch = _packedBatch(50, 10, true);
        vault.settleBatchPacked(batch);
        uint256 total = vm.snapshotGasLastCall(GROUP, "settleBatchPacked_50_total");
        vm.snapshotValue(GROUP, "settleBatchPacked_50_perMessage", total / 50);
        assertLe(total / 50, 18_000, "settleBatchPacked_50_perMessage");
    }

    function test_gas_settleBatchPacked_50_perMessage_freshRecipients() public {
        bytes memory batch = _packedBatch(50, 10, false);
        vault.settleBatchPacked(batch);
        uint256 total = vm.snapshotGasLastCall(GROUP, "settleBatchPacked_50_freshRecipients_total");
        vm.snapshotValue(GROUP, "settleBatchPacked_50_perMessage_freshRecipients", total / 50);
    }

    function test_gas_settleBatchPacked_10_perMessage() public {
        bytes memory batch = _packedBatch(10, 10, true);
        vault.settleBatchPacked(batch);
        uint256 total = vm.snapshotGasLastCall(GROUP, "settleBatchPacked_10_total");
        vm.snapshotValue(GROUP, "settleBatchPacked_10_perMessage", total / 10);
    }

    function test_gas_settleBatchPacked_1() public {
        bytes memory batch = _packedBatch(1, 1, true);
        vault.settleBatchPacked(batch);
        vm.snapshotGasLastCall(GROUP, "settleBatchPacked_1");
    }

    function test_gas_payWithSig() public {
        IPayInboxVault.SignedPayment[] memory batch = _batch(1, 1, true);
        vault.payWithSig(batch[0].payment, batch[0].channel, batch[0].signature);
        _record("payWithSig", 60_000);
    }

    function test_gas_withdraw_full() public {
        _fund(alice, 1000 * USDC);
        vm.prank(alice);
        vault.withdraw(1000 * USDC);
        vm.snapshotGasLastCall(GROUP, "withdraw_full");
    }

    function test_gas_deposit_first() public {
        usdc.mint(alice, 1000 * USDC);
        vm.prank(alice);
        usdc.approve(address(vault), 500 * USDC);
        vm.prank(alice);
        vault.deposit(100 * USDC);
        vm.snapshotGasLastCall(GROUP, "deposit_first");
    }

    function test_gas_collectFees() public {
        _fund(alice, 1000 * USDC);
        vm.prank(alice);
        vault.sendMessagePayment(bob, keccak256("m1"), keccak256("c1"), 1, 2 * USDC);
        vault.collectFees();
        vm.snapshotGasLastCall(GROUP, "collectFees");
    }

    // ───────────────────────────── the plain baseline, same calls ─────────────────────────────

    function test_gas_plain_sendMessagePayment_warm() public {
        _fundPlain(alice, 1000 * USDC);
        vm.prank(alice);
        plain.sendMessagePayment(bob, keccak256("m1"), keccak256("c1"), 1, 2 * USDC);
        vm.prank(alice);
        plain.sendMessagePayment(bob, keccak256("m2"), keccak256("c2"), 1, 2 * USDC);
        vm.snapshotGasLastCall(GROUP, "plain_sendMessagePayment_warm");
    }

    function test_gas_plain_deposit_warm() public {
        _depositTwice(address(plain), type(uint256).max);
        vm.snapshotGasLastCall(GROUP, "plain_deposit_warm");
    }

    function test_gas_plain_deposit_warm_finiteAllowance() public {
        _depositTwice(address(plain), 500 * USDC);
        vm.snapshotGasLastCall(GROUP, "plain_deposit_warm_finiteAllowance");
    }

    function test_gas_plain_withdraw_partial() public {
        _fundPlain(alice, 1000 * USDC);
        usdc.mint(alice, 1);
        vm.prank(alice);
        plain.withdraw(100 * USDC);
        vm.snapshotGasLastCall(GROUP, "plain_withdraw_partial");
    }

    // ───────────────────────────── helpers ─────────────────────────────

    /// @dev Alice approves `target` for `allowance` and deposits 100 USDC twice; the second is measured.
    function _depositTwice(address target, uint256 allowance) internal {
        usdc.mint(alice, 1000 * USDC);
        vm.prank(alice);
        usdc.approve(target, allowance);
        vm.prank(alice);
        PlainVault(target).deposit(100 * USDC);
        vm.prank(alice);
        PlainVault(target).deposit(100 * USDC);
    }

    function _fundPlain(address user, uint256 amount) internal {
        usdc.mint(user, amount);
        vm.startPrank(user);
        usdc.approve(address(plain), amount);
        plain.deposit(amount);
        vm.stopPrank();
    }

    /// @dev `_batch` as `settleBatchPacked` data.
    function _packedBatch(uint256 n, uint256 m, bool warmRecipients) internal returns (bytes memory packed) {
        IPayInboxVault.SignedPayment[] memory batch = _batch(n, m, warmRecipients);
        for (uint256 i; i < n; ++i) {
            (, uint256 key) = makeAddrAndKey(string.concat("payer", vm.toString(i)));
            packed = bytes.concat(packed, _packed(key, batch[i].payment, batch[i].channel));
        }
    }

    /// @dev `n` funded payers paying `m` recipients round-robin; with `warmRecipients` each recipient already holds
    ///      a balance (it received a direct payment before).
    function _batch(uint256 n, uint256 m, bool warmRecipients)
        internal
        returns (IPayInboxVault.SignedPayment[] memory batch)
    {
        address[] memory recipients = new address[](m);
        for (uint256 j; j < m; ++j) {
            recipients[j] = makeAddr(string.concat("recipient", vm.toString(j)));
        }
        if (warmRecipients) {
            _fund(carol, 100 * USDC);
            for (uint256 j; j < m; ++j) {
                vm.prank(carol);
                vault.sendMessagePayment(recipients[j], bytes32(j), bytes32(j), 0, USDC);
            }
        }
        batch = new IPayInboxVault.SignedPayment[](n);
        for (uint256 i; i < n; ++i) {
            (address payer, uint256 key) = makeAddrAndKey(string.concat("payer", vm.toString(i)));
            _fund(payer, 100 * USDC);
            IPayInboxVault.Payment memory p = _payment(payer, recipients[i % m], 2 * USDC, 0);
            batch[i] = IPayInboxVault.SignedPayment({payment: p, channel: 1, signature: _sign(key, p)});
        }
    }
}
