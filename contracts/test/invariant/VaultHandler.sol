// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {CommonBase} from "forge-std/Base.sol";
import {StdCheats} from "forge-std/StdCheats.sol";
import {StdUtils} from "forge-std/StdUtils.sol";

import {MockUSDC} from "../../src/MockUSDC.sol";
import {PayInboxVault} from "../../src/PayInboxVault.sol";
import {IPayInboxVault} from "../../src/interfaces/IPayInboxVault.sol";

/// @dev Drives the vault with random deposits, withdrawals, direct, relayed and batched payments, nonce
///      invalidations, fee changes and collections, and pauses, keeping ghost books of what went in and out.
contract VaultHandler is CommonBase, StdCheats, StdUtils {
    PayInboxVault public immutable vault;
    MockUSDC public immutable usdc;
    address public immutable owner;

    address[] public actors;
    uint256[] internal keys;

    // Ghost books.
    uint256 public ghost_depositSum;
    uint256 public ghost_withdrawSum;
    uint256 public ghost_feeSum; // fees charged by every settled payment
    uint256 public ghost_feesCollected;
    uint256 public ghost_paymentCount;
    mapping(address => uint256) public ghost_in; // deposits credited + payments received + fees collected
    mapping(address => uint256) public ghost_out; // withdrawals + payments made (amount + fee)
    mapping(address => uint256) public ghost_deposited; // deposits credited only
    mapping(address => uint256) public ghost_lastNonce;
    bool public ghost_nonceWentDown;
    bool public ghost_pausedActionSucceeded;

    mapping(bytes32 => uint256) public calls;

    constructor(PayInboxVault vault_, MockUSDC usdc_, address owner_, address feeRecipient) {
        vault = vault_;
        usdc = usdc_;
        owner = owner_;
        for (uint256 i; i < 5; ++i) {
            (address a, uint256 k) = makeAddrAndKey(string.concat("actor", vm.toString(i)));
            actors.push(a);
            keys.push(k);
        }
        actors.push(feeRecipient); // no key: never a relayed payer
    }

    modifier track(bytes32 name) {
        ++calls[name];
        _;
        _checkNonces();
    }

    function actorCount() external view returns (uint256) {
        return actors.length;
    }

    // ───────────────────────────── actions ─────────────────────────────

    function deposit(uint256 actorSeed, uint256 forSeed, uint256 amount) external track("deposit") {
        address from = actors[actorSeed % 5];
        address to = actors[forSeed % actors.length];
        amount = bound(amount, 1, 1e12);
        usdc.mint(from, amount);
        vm.startPrank(from);
        usdc.approve(address(vault), amount);
        if (vault.paused()) {
            try vault.depositFor(to, amount) {
                ghost_pausedActionSucceeded = true;
            } catch {}
            vm.stopPrank();
            return;
        }
        vault.depositFor(to, amount);
        vm.stopPrank();
        ghost_depositSum += amount;
        ghost_in[to] += amount;
        ghost_deposited[to] += amount;
    }

    function withdraw(uint256 actorSeed, uint256 amount, bool toOther) external track("withdraw") {
        address a = actors[actorSeed % actors.length];
        uint256 balance = vault.balanceOf(a);
        if (balance == 0) return;
        amount = bound(amount, 1, balance);
        vm.prank(a);
        if (toOther) vault.withdrawTo(address(0xBEEF), amount);
        else vault.withdraw(amount);
        ghost_withdrawSum += amount;
        ghost_out[a] += amount;
    }

    function sendMessagePayment(uint256 payerSeed, uint256 recipientSeed, uint256 amount)
        external
        track("sendMessagePayment")
    {
        (address payer, address recipient) = _pair(payerSeed, recipientSeed);
        (bool ok, uint256 fee) = _affordable(payer, amount);
        if (!ok) return;
        amount = _bounded(payer, amount);
        fee = vault.feeFor(amount);
        bool paused = vault.paused();
        vm.prank(payer);
        if (paused) {
            try vault.sendMessagePayment(recipient, bytes32(0), bytes32(0), 0, amount) {
                ghost_pausedActionSucceeded = true;
            } catch {}
            return;
        }
        vault.sendMessagePayment(recipient, keccak256(abi.encode(payerSeed)), bytes32(0), 1, amount);
        _book(payer, recipient, amount, fee);
    }

    function payWithSig(uint256 payerSeed, uint256 recipientSeed, uint256 amount) external track("payWithSig") {
        uint256 i = payerSeed % 5;
        (address payer, address recipient) = _pair(i, recipientSeed);
        (bool ok,) = _affordable(payer, amount);
        if (!ok) return;
        amount = _bounded(payer, amount);
        (IPayInboxVault.Payment memory p, bytes memory sig) = _signed(i, recipient, amount, vault.nonces(payer));
        uint256 fee = vault.feeFor(amount);
        if (vault.paused()) {
            try vault.payWithSig(p, 0, sig) {
                ghost_pausedActionSucceeded = true;
            } catch {}
            return;
        }
        vault.payWithSig(p, 2, sig);
        _book(payer, recipient, amount, fee);
    }

    /// @dev A batch of up to 8 payments; some deliberately bad (stale nonce, wrong key, expired) and skipped.
    function settleBatch(uint256 seed, uint256 size) external track("settleBatch") {
        if (vault.paused()) return;
        size = bound(size, 1, 8);
        IPayInboxVault.SignedPayment[] memory batch = new IPayInboxVault.SignedPayment[](size);
        bool[] memory good = new bool[](size);
        uint256[5] memory nextNonce;
        uint256[6] memory room; // balances as the batch will see them, entry by entry
        for (uint256 k; k < 6; ++k) {
            if (k < 5) nextNonce[k] = vault.nonces(actors[k]);
            room[k] = vault.balanceOf(actors[k]);
        }
        for (uint256 j; j < size; ++j) {
            (batch[j], good[j]) = _batchItem(uint256(keccak256(abi.encode(seed, j))), nextNonce, room);
        }
        uint256 settled = vault.settleBatch(batch);
        uint256 expected;
        uint256 feeBps = vault.feeBps();
        for (uint256 j; j < size; ++j) {
            if (!good[j]) continue;
            ++expected;
            IPayInboxVault.Payment memory p = batch[j].payment;
            _book(p.payer, p.recipient, p.amount, p.amount * feeBps / 10_000);
        }
        require(settled == expected, "batch settled count");
    }

    /// @dev The same mix of good and bad entries through `settleBatchPacked` (compact signatures).
    function settleBatchPacked(uint256 seed, uint256 size) external track("settleBatchPacked") {
        if (vault.paused()) return;
        size = bound(size, 1, 8);
        uint256[5] memory nextNonce;
        uint256[6] memory room;
        for (uint256 k; k < 6; ++k) {
            if (k < 5) nextNonce[k] = vault.nonces(actors[k]);
            room[k] = vault.balanceOf(actors[k]);
        }
        bytes memory packed;
        IPayInboxVault.Payment[] memory payments = new IPayInboxVault.Payment[](size);
        bool[] memory good = new bool[](size);
        for (uint256 j; j < size; ++j) {
            IPayInboxVault.SignedPayment memory item;
            (item, good[j]) = _batchItem(uint256(keccak256(abi.encode(seed, j))), nextNonce, room);
            payments[j] = item.payment;
            packed = bytes.concat(packed, _toPacked(item));
        }
        uint256 settled = vault.settleBatchPacked(packed);
        uint256 expected;
        uint256 feeBps = vault.feeBps();
        for (uint256 j; j < size; ++j) {
            if (!good[j]) continue;
            ++expected;
            _book(payments[j].payer, payments[j].recipient, payments[j].amount, payments[j].amount * feeBps / 10_000);
        }
        require(settled == expected, "packed batch settled count");
    }

    /// @dev A `settleBatch` entry re-encoded for `settleBatchPacked` (65-byte signature → EIP-2098 compact).
    function _toPacked(IPayInboxVault.SignedPayment memory item) internal pure returns (bytes memory) {
        IPayInboxVault.Payment memory p = item.payment;
        bytes memory sig = item.signature;
        bytes32 r;
        bytes32 s;
        uint8 v;
        assembly ("memory-safe") {
            r := mload(add(sig, 0x20))
            s := mload(add(sig, 0x40))
            v := byte(0, mload(add(sig, 0x60)))
        }
        return abi.encodePacked(
            abi.encodePacked(p.payer, p.recipient, p.messageId, p.contentHash),
            abi.encodePacked(uint128(p.amount), uint64(p.nonce), uint40(p.deadline), item.channel, uint16(0)),
            r,
            bytes32(uint256(s) | (uint256(v - 27) << 255))
        );
    }

    /// @dev One batch entry from random `r`: a stale nonce, a wrong key, an expired deadline, or a valid payment
    ///      (valid only if the payer can afford it after the earlier entries: `room` tracks that).
    function _batchItem(uint256 r, uint256[5] memory nextNonce, uint256[6] memory room)
        internal
        view
        returns (IPayInboxVault.SignedPayment memory item, bool good)
    {
        uint256 i = r % 5;
        uint256 to = (i + 1 + (r >> 8) % 5) % actors.length;
        address recipient = actors[to];
        uint256 amount = bound(r >> 16, 1, 1e9);
        uint256 cost = amount + amount * vault.feeBps() / 10_000;
        uint256 kind = (r >> 64) % 6; // 0: stale nonce, 1: wrong key, 2: expired, else valid
        (IPayInboxVault.Payment memory p, bytes memory sig) = _signed(i, recipient, amount, nextNonce[i]);
        if (kind == 0) {
            (p, sig) = _signed(i, recipient, amount, nextNonce[i] + 1);
        } else if (kind == 1) {
            (, sig) = _signed((i + 1) % 5, recipient, amount, nextNonce[i]);
        } else if (kind == 2) {
            p.deadline = block.timestamp - 1;
            sig = _sign(i, p);
        } else if (cost <= room[i]) {
            good = true;
            ++nextNonce[i];
            room[i] -= cost;
            room[to] += amount;
        }
        item = IPayInboxVault.SignedPayment({payment: p, channel: 0, signature: sig});
    }

    function invalidateNonces(uint256 actorSeed, uint256 jump) external track("invalidateNonces") {
        address a = actors[actorSeed % actors.length];
        uint256 current = vault.nonces(a);
        jump = bound(jump, 1, 3);
        vm.prank(a);
        vault.invalidateNonces(current + jump);
    }

    function collectFees() external track("collectFees") {
        uint256 fees = vault.accruedFees();
        address recipient = vault.feeRecipient();
        vault.collectFees();
        ghost_feesCollected += fees;
        ghost_in[recipient] += fees;
    }

    function setFeeBps(uint256 feeBps) external track("setFeeBps") {
        vm.prank(owner);
        vault.setFeeBps(bound(feeBps, 0, 1000));
    }

    function togglePause() external track("togglePause") {
        bool paused = vault.paused();
        vm.prank(owner);
        if (paused) vault.unpause();
        else vault.pause();
    }

    function warp(uint256 secs) external track("warp") {
        vm.warp(block.timestamp + bound(secs, 1, 1 days));
    }

    // ───────────────────────────── helpers ─────────────────────────────

    function _pair(uint256 payerSeed, uint256 recipientSeed) internal view returns (address payer, address recipient) {
        uint256 i = payerSeed % 5;
        payer = actors[i];
        recipient = actors[(i + 1 + recipientSeed % 5) % actors.length];
    }

    /// @dev Whether the payer can afford at least the smallest payment.
    function _affordable(address payer, uint256) internal view returns (bool, uint256) {
        return (vault.balanceOf(payer) >= 2, 0);
    }

    /// @dev An amount the payer can afford with the fee on top.
    function _bounded(address payer, uint256 amount) internal view returns (uint256) {
        uint256 balance = vault.balanceOf(payer);
        uint256 max = balance * 10_000 / (10_000 + vault.feeBps());
        return bound(amount, 1, max == 0 ? 1 : max);
    }

    function _signed(uint256 i, address recipient, uint256 amount, uint256 nonce)
        internal
        view
        returns (IPayInboxVault.Payment memory p, bytes memory sig)
    {
        p = IPayInboxVault.Payment({
            payer: actors[i],
            recipient: recipient,
            messageId: keccak256(abi.encode(actors[i], nonce, amount)),
            contentHash: bytes32(amount),
            amount: amount,
            nonce: nonce,
            deadline: block.timestamp + 1 hours
        });
        sig = _sign(i, p);
    }

    function _sign(uint256 i, IPayInboxVault.Payment memory p) internal view returns (bytes memory) {
        (uint8 v, bytes32 r, bytes32 s) = vm.sign(keys[i], vault.hashPayment(p));
        return abi.encodePacked(r, s, v);
    }

    function _book(address payer, address recipient, uint256 amount, uint256 fee) internal {
        ghost_out[payer] += amount + fee;
        ghost_in[recipient] += amount;
        ghost_feeSum += fee;
        ++ghost_paymentCount;
    }

    function _checkNonces() internal {
        for (uint256 i; i < actors.length; ++i) {
            uint256 n = vault.nonces(actors[i]);
            if (n < ghost_lastNonce[actors[i]]) ghost_nonceWentDown = true;
            ghost_lastNonce[actors[i]] = n;
        }
    }
}
