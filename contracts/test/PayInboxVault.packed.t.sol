// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {Pausable} from "@openzeppelin/contracts/utils/Pausable.sol";
import {Vm} from "forge-std/Vm.sol";

import {IPayInboxVault} from "../src/interfaces/IPayInboxVault.sol";
import {BaseTest} from "./utils/BaseTest.sol";
import {GasGuzzlerWallet, MockERC1271Wallet} from "./utils/Mocks.sol";

/// @dev `settleBatchPacked`: the packed layout, the same checks and events as `settleBatch`, compact signatures,
///      ERC-1271 payers, malformed data.
contract PayInboxVaultPackedTest is BaseTest {
    /// @dev secp256k1 group order.
    uint256 internal constant N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141;

    function _signed(uint256 key, IPayInboxVault.Payment memory p)
        internal
        view
        returns (IPayInboxVault.SignedPayment memory)
    {
        return IPayInboxVault.SignedPayment({payment: p, channel: 2, signature: _sign(key, p)});
    }

    function _expectPaid(IPayInboxVault.Payment memory p, uint8 channel) internal {
        vm.expectEmit(true, true, true, true, address(vault));
        emit IPayInboxVault.MessagePaid(
            p.payer, p.recipient, p.messageId, p.amount, _fee(p.amount), p.contentHash, p.nonce, channel
        );
    }

    function _expectSkipped(IPayInboxVault.Payment memory p, bytes4 reason) internal {
        vm.expectEmit(true, true, true, true, address(vault));
        emit IPayInboxVault.PaymentSkipped(p.payer, p.messageId, p.nonce, reason);
    }

    function test_packed_entryIs200Bytes() public view {
        assertEq(_packed(aliceKey, _payment(alice, bob, USDC, 0), 1).length, 200);
    }

    function test_packed_settlesAllAndAccruesOnce() public {
        _fund(alice, 100 * USDC);
        _fund(bob, 100 * USDC);
        IPayInboxVault.Payment memory p0 = _payment(alice, carol, 1 * USDC, 0);
        IPayInboxVault.Payment memory p1 = _payment(alice, bob, 2 * USDC, 1); // same payer, next nonce
        IPayInboxVault.Payment memory p2 = _payment(bob, carol, 4 * USDC, 0);
        bytes memory batch = bytes.concat(_packed(aliceKey, p0, 2), _packed(aliceKey, p1, 7), _packed(bobKey, p2, 255));
        _expectPaid(p0, 2);
        _expectPaid(p1, 7);
        _expectPaid(p2, 255);
        vm.prank(carol);
        assertEq(vault.settleBatchPacked(batch), 3);
        assertEq(vault.balanceOf(alice), 100 * USDC - 3 * USDC - _fee(USDC) - _fee(2 * USDC));
        assertEq(vault.balanceOf(bob), 100 * USDC + 2 * USDC - 4 * USDC - _fee(4 * USDC));
        assertEq(vault.balanceOf(carol), 5 * USDC);
        assertEq(vault.accruedFees(), _fee(USDC) + _fee(2 * USDC) + _fee(4 * USDC));
        assertEq(vault.nonces(alice), 2);
        assertEq(vault.nonces(bob), 1);
    }

    /// @dev The same payments through both entry points leave byte-identical logs and the same state.
    function test_packed_logsIdenticalToSettleBatch() public {
        _fund(alice, 100 * USDC);
        _fund(bob, 1 * USDC);
        IPayInboxVault.SignedPayment[] memory batch = new IPayInboxVault.SignedPayment[](4);
        batch[0] = _signed(aliceKey, _payment(alice, carol, USDC, 0));
        batch[1] = _signed(bobKey, _payment(bob, carol, USDC, 0)); // fee not covered: skipped
        batch[2] = _signed(aliceKey, _payment(alice, bob, 3 * USDC, 1));
        batch[3] = _signed(aliceKey, _payment(alice, bob, 3 * USDC, 1)); // replay: skipped
        bytes memory packed;
        uint256[4] memory keys = [aliceKey, bobKey, aliceKey, aliceKey];
        for (uint256 i; i < 4; ++i) {
            packed = bytes.concat(packed, _packed(keys[i], batch[i].payment, 2));
        }

        uint256 snapshot = vm.snapshotState();
        vm.recordLogs();
        assertEq(vault.settleBatch(batch), 2);
        Vm.Log[] memory expected = vm.getRecordedLogs();
        uint256 carolAfter = vault.balanceOf(carol);
        vm.revertToState(snapshot);

        vm.recordLogs();
        assertEq(vault.settleBatchPacked(packed), 2);
        Vm.Log[] memory actual = vm.getRecordedLogs();
        assertEq(actual.length, expected.length, "log count");
        for (uint256 i; i < actual.length; ++i) {
            assertEq(actual[i].topics, expected[i].topics, "topics");
            assertEq(actual[i].data, expected[i].data, "data");
            assertEq(actual[i].emitter, expected[i].emitter, "emitter");
        }
        assertEq(vault.balanceOf(carol), carolAfter);
    }

    function test_packed_skipsFailuresWithReason() public {
        _fund(alice, 100 * USDC);
        _fund(bob, 1 * USDC);
        IPayInboxVault.Payment[8] memory p;
        uint256[8] memory keys;
        p[0] = _payment(alice, carol, USDC, 0); // ok
        keys[0] = aliceKey;
        p[1] = _payment(alice, carol, USDC, 0); // replay of [0]
        keys[1] = aliceKey;
        p[2] = _payment(bob, carol, USDC, 0); // fee not covered
        keys[2] = bobKey;
        p[3] = _payment(alice, carol, USDC, 1); // wrong signer
        keys[3] = bobKey;
        p[4] = _payment(alice, carol, USDC, 1);
        p[4].deadline = block.timestamp - 1; // expired
        keys[4] = aliceKey;
        p[5] = _payment(alice, address(0), USDC, 1); // bad recipient
        keys[5] = aliceKey;
        p[6] = _payment(alice, carol, 0, 1); // zero amount
        keys[6] = aliceKey;
        p[7] = _payment(alice, bob, 2 * USDC, 1); // ok
        keys[7] = aliceKey;
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
        bytes memory batch;
        for (uint256 i; i < 8; ++i) {
            batch = bytes.concat(batch, _packed(keys[i], p[i], 2));
            if (reasons[i] == bytes4(0)) _expectPaid(p[i], 2);
            else _expectSkipped(p[i], reasons[i]);
        }
        assertEq(vault.settleBatchPacked(batch), 2);
        assertEq(vault.balanceOf(carol), USDC);
        assertEq(vault.balanceOf(bob), 3 * USDC);
        assertEq(vault.nonces(alice), 2);
        assertEq(vault.nonces(bob), 0);
    }

    function test_packed_selfPaymentSkipped() public {
        _fund(alice, 10 * USDC);
        IPayInboxVault.Payment memory p = _payment(alice, alice, USDC, 0);
        _expectSkipped(p, IPayInboxVault.InvalidRecipient.selector);
        assertEq(vault.settleBatchPacked(_packed(aliceKey, p, 0)), 0);
    }

    function test_packed_recipientOverflowSkipped() public {
        _fund(bob, type(uint128).max);
        _fund(alice, 10);
        IPayInboxVault.Payment memory p = _payment(alice, bob, 1, 0);
        _expectSkipped(p, IPayInboxVault.AmountTooLarge.selector);
        assertEq(vault.settleBatchPacked(_packed(aliceKey, p, 0)), 0);
        assertEq(vault.nonces(alice), 0);
        assertEq(vault.balanceOf(alice), 10);
    }

    /// @dev One signature settles once, whichever entry point carries it.
    function test_packed_replayAcrossEntryPointsFails() public {
        _fund(alice, 10 * USDC);
        IPayInboxVault.Payment memory p = _payment(alice, bob, USDC, 0);
        assertEq(vault.settleBatchPacked(_packed(aliceKey, p, 0)), 1);
        assertEq(vault.settleBatchPacked(_packed(aliceKey, p, 0)), 0);
        IPayInboxVault.SignedPayment[] memory one = new IPayInboxVault.SignedPayment[](1);
        one[0] = _signed(aliceKey, p);
        assertEq(vault.settleBatch(one), 0);
        assertEq(vault.balanceOf(bob), USDC, "paid once");
    }

    /// @dev (r, N - s) with the flipped parity recovers the same key with ecrecover; the vault refuses it.
    function test_packed_highSCompactRejected() public {
        _fund(alice, 10 * USDC);
        IPayInboxVault.Payment memory p = _payment(alice, bob, USDC, 0);
        (uint8 v, bytes32 r, bytes32 s) = vm.sign(aliceKey, _digest(p, block.chainid, address(vault)));
        uint256 highS = N - uint256(s);
        assertEq(ecrecover(vault.hashPayment(p), v == 27 ? 28 : 27, r, bytes32(highS)), alice, "twin recovers");
        // The twin of a low s is above 2^255: the compact form cannot carry it (its top bit is read as the parity and
        // the rest is some other s). Nothing settles.
        uint256 parity = v == 27 ? 1 : 0; // flipped
        bytes32 vs = bytes32(highS | (parity << 255));
        bytes memory twin = abi.encodePacked(_packedHeader(p, 0, 0), r, vs);
        _expectSkipped(p, IPayInboxVault.InvalidSignature.selector);
        assertEq(vault.settleBatchPacked(twin), 0);
        // An s just above N/2 with the top bit clear is representable: refused by the low-s rule.
        bytes memory above = abi.encodePacked(_packedHeader(p, 0, 0), r, bytes32((N >> 1) + 1));
        assertEq(vault.settleBatchPacked(above), 0);
        assertEq(vault.settleBatchPacked(_packed(aliceKey, p, 0)), 1);
    }

    function test_packed_garbageAndZeroSignaturesRejected() public {
        _fund(alice, 10 * USDC);
        IPayInboxVault.Payment memory p = _payment(alice, bob, USDC, 0);
        bytes memory zero = abi.encodePacked(_packedHeader(p, 0, 0), bytes32(0), bytes32(0));
        assertEq(vault.settleBatchPacked(zero), 0);
        bytes memory junk = abi.encodePacked(_packedHeader(p, 0, 0), bytes32(uint256(1)), bytes32(uint256(2)));
        assertEq(vault.settleBatchPacked(junk), 0);
        // A zero payer can never match a failed recovery (which yields address(0)).
        IPayInboxVault.Payment memory q = _payment(address(0), bob, USDC, 0);
        bytes memory none = abi.encodePacked(_packedHeader(q, 0, 0), bytes32(0), bytes32(0));
        _expectSkipped(q, IPayInboxVault.InsufficientBalance.selector);
        assertEq(vault.settleBatchPacked(none), 0);
        assertEq(vault.balanceOf(bob), 0);
    }

    function test_packed_tamperedFieldsRejected() public {
        _fund(alice, 10 * USDC);
        IPayInboxVault.Payment memory p = _payment(alice, bob, USDC, 0);
        bytes memory entry = _packed(aliceKey, p, 0);
        // Flip one byte in each signed field: payer excluded (it selects the account), recipient, messageId,
        // contentHash, amount, deadline.
        uint256[5] memory at = [uint256(21), 41, 73, 119, 131];
        for (uint256 i; i < at.length; ++i) {
            bytes memory t = bytes.concat(entry);
            t[at[i]] = bytes1(uint8(t[at[i]]) ^ 1);
            assertEq(vault.settleBatchPacked(t), 0);
        }
        // The channel is not signed: changing it still settles.
        bytes memory c = bytes.concat(entry);
        c[133] = bytes1(uint8(9));
        assertEq(vault.settleBatchPacked(c), 1);
    }

    function test_packed_wrongChainOrVaultRejected() public {
        _fund(alice, 10 * USDC);
        IPayInboxVault.Payment memory p = _payment(alice, bob, USDC, 0);
        (uint8 v, bytes32 r, bytes32 s) = vm.sign(aliceKey, _digest(p, block.chainid + 1, address(vault)));
        bytes memory other = abi.encodePacked(_packedHeader(p, 0, 0), r, bytes32(uint256(s) | (uint256(v - 27) << 255)));
        assertEq(vault.settleBatchPacked(other), 0);
        (v, r, s) = vm.sign(aliceKey, _digest(p, block.chainid, address(0xBEEF)));
        other = abi.encodePacked(_packedHeader(p, 0, 0), r, bytes32(uint256(s) | (uint256(v - 27) << 255)));
        assertEq(vault.settleBatchPacked(other), 0);
        bytes memory signedBeforeFork = _packed(aliceKey, p, 0);
        vm.chainId(block.chainid + 7); // after a fork, old-chain signatures stop working
        assertEq(vault.settleBatchPacked(signedBeforeFork), 0);
    }

    // ───────────────────────────── ERC-1271 ─────────────────────────────

    function test_packed_erc1271WalletApproves() public {
        MockERC1271Wallet wallet = new MockERC1271Wallet(bob);
        _fund(address(wallet), 10 * USDC);
        IPayInboxVault.Payment memory p = _payment(address(wallet), carol, USDC, 0);
        bytes memory entry = _packed1271(p, 3, _sign(bobKey, p));
        assertEq(entry.length, 136 + 65);
        _expectPaid(p, 3);
        assertEq(vault.settleBatchPacked(entry), 1);
        assertEq(vault.balanceOf(carol), USDC);
        // A compact ECDSA entry "by" the wallet cannot exist (no key): refused.
        IPayInboxVault.Payment memory q = _payment(address(wallet), carol, USDC, 1);
        assertEq(vault.settleBatchPacked(_packed(bobKey, q, 0)), 0);
    }

    function test_packed_erc1271WalletRefuses() public {
        MockERC1271Wallet wallet = new MockERC1271Wallet(bob);
        _fund(address(wallet), 10 * USDC);
        wallet.setRefuse(true);
        IPayInboxVault.Payment memory p = _payment(address(wallet), carol, USDC, 0);
        _expectSkipped(p, IPayInboxVault.InvalidSignature.selector);
        assertEq(vault.settleBatchPacked(_packed1271(p, 0, _sign(bobKey, p))), 0);
    }

    /// @dev ERC-1271 bytes for a payer without code are refused (an EOA cannot approve by contract).
    function test_packed_erc1271BytesForEoaRefused() public {
        _fund(alice, 10 * USDC);
        IPayInboxVault.Payment memory p = _payment(alice, carol, USDC, 0);
        _expectSkipped(p, IPayInboxVault.InvalidSignature.selector);
        assertEq(vault.settleBatchPacked(_packed1271(p, 0, _sign(aliceKey, p))), 0);
    }

    function test_packed_gasGuzzlerCannotStarveBatch() public {
        GasGuzzlerWallet wallet = new GasGuzzlerWallet(false);
        _fund(address(wallet), 10 * USDC);
        _fund(alice, 10 * USDC);
        IPayInboxVault.Payment memory bad = _payment(address(wallet), carol, USDC, 0);
        IPayInboxVault.Payment memory good = _payment(alice, carol, USDC, 0);
        bytes memory batch = bytes.concat(_packed1271(bad, 0, hex"00"), _packed(aliceKey, good, 0));
        assertEq(vault.settleBatchPacked{gas: 1_000_000}(batch), 1);
        assertEq(vault.balanceOf(carol), USDC);
    }

    // ───────────────────────────── shape ─────────────────────────────

    function test_packed_revertsOnEmpty() public {
        vm.expectRevert(IPayInboxVault.EmptyBatch.selector);
        vault.settleBatchPacked("");
    }

    function test_packed_revertsWhenPaused() public {
        vm.prank(owner);
        vault.pause();
        vm.expectRevert(Pausable.EnforcedPause.selector);
        vault.settleBatchPacked(_packed(aliceKey, _payment(alice, bob, USDC, 0), 0));
    }

    /// @dev A batch cut anywhere but on an entry boundary reverts as a whole; nothing settles.
    function test_packed_truncatedBatchReverts() public {
        _fund(alice, 10 * USDC);
        bytes memory two = bytes.concat(
            _packed(aliceKey, _payment(alice, bob, USDC, 0), 0), _packed(aliceKey, _payment(alice, bob, USDC, 1), 0)
        );
        uint256[4] memory cuts = [uint256(1), 135, 199, 399];
        for (uint256 i; i < cuts.length; ++i) {
            bytes memory cut = new bytes(cuts[i]);
            for (uint256 j; j < cuts[i]; ++j) {
                cut[j] = two[j];
            }
            vm.expectRevert(abi.encodeWithSelector(IPayInboxVault.MalformedBatch.selector, cuts[i] < 200 ? 0 : 200));
            vault.settleBatchPacked(cut);
        }
        // An ERC-1271 entry whose sigLength runs past the end.
        IPayInboxVault.Payment memory p = _payment(alice, bob, USDC, 0);
        bytes memory long = abi.encodePacked(_packedHeader(p, 0, 100), new bytes(99));
        vm.expectRevert(abi.encodeWithSelector(IPayInboxVault.MalformedBatch.selector, 0));
        vault.settleBatchPacked(long);
        assertEq(vault.nonces(alice), 0);
    }

    // ───────────────────────────── fuzz ─────────────────────────────

    struct Outcome {
        uint256 settled;
        uint256 payerBalance;
        uint256 payerNonce;
        uint256 recipientBalance;
        uint256 fees;
        bytes32 logs;
    }

    function _outcome(uint256 settled, address payer, address recipient) internal returns (Outcome memory o) {
        Vm.Log[] memory logs = vm.getRecordedLogs();
        for (uint256 i; i < logs.length; ++i) {
            o.logs = keccak256(abi.encode(o.logs, logs[i].emitter, logs[i].topics, logs[i].data));
        }
        o.settled = settled;
        (o.payerBalance, o.payerNonce) = vault.accountOf(payer);
        o.recipientBalance = vault.balanceOf(recipient);
        o.fees = vault.accruedFees();
    }

    /// @dev Differential: any payment (valid or not) has the same outcome — settled count, balances, nonce, fees,
    ///      logs byte for byte — through `settleBatchPacked` as through `settleBatch`.
    function testFuzz_packedMatchesSettleBatch(
        uint128 amount,
        uint64 nonce,
        uint32 deadlineOffset,
        bool expired,
        bool wrongKey,
        uint8 channel,
        uint256 funding
    ) public {
        funding = bound(funding, 0, 1e15);
        if (funding != 0) _fund(alice, funding);
        IPayInboxVault.Payment memory p = _payment(alice, bob, amount, nonce % 3 == 0 ? 0 : nonce);
        p.deadline = expired ? block.timestamp - 1 : block.timestamp + deadlineOffset;
        uint256 key = wrongKey ? bobKey : aliceKey;
        IPayInboxVault.SignedPayment[] memory one = new IPayInboxVault.SignedPayment[](1);
        one[0] = IPayInboxVault.SignedPayment({payment: p, channel: channel, signature: _sign(key, p)});
        bytes memory packed = _packed(key, p, channel);

        uint256 snapshot = vm.snapshotState();
        vm.recordLogs();
        Outcome memory a = _outcome(vault.settleBatch(one), alice, bob);
        vm.revertToState(snapshot);
        vm.recordLogs();
        Outcome memory b = _outcome(vault.settleBatchPacked(packed), alice, bob);
        assertEq(abi.encode(b), abi.encode(a));
    }
}
