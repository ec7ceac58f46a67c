// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {Ownable} from "@openzeppelin/contracts/access/Ownable.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {Pausable} from "@openzeppelin/contracts/utils/Pausable.sol";
import {ReentrancyGuard} from "@openzeppelin/contracts/utils/ReentrancyGuard.sol";

/// @dev The baseline the gas targets are measured against: the same shape as PayInboxVault written plainly —
///      OpenZeppelin Ownable, Pausable, ReentrancyGuard, SafeERC20, one slot per balance, per nonce and for the fee
///      recipient, the fee credited to the fee recipient's balance on every payment. Test-only.
contract PlainVault is Ownable, Pausable, ReentrancyGuard {
    using SafeERC20 for IERC20;

    IERC20 public immutable token;
    uint256 public feeBps;
    address public feeRecipient;
    mapping(address => uint256) public balanceOf;
    mapping(address => uint256) public nonces;

    event Deposited(address indexed user, address indexed from, uint256 amount);
    event Withdrawn(address indexed user, address indexed to, uint256 amount);
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

    constructor(IERC20 token_, address feeRecipient_, uint256 feeBps_) Ownable(msg.sender) {
        token = token_;
        feeRecipient = feeRecipient_;
        feeBps = feeBps_;
    }

    function deposit(uint256 amount) external nonReentrant whenNotPaused {
        token.safeTransferFrom(msg.sender, address(this), amount);
        balanceOf[msg.sender] += amount;
        emit Deposited(msg.sender, msg.sender, amount);
    }

    function withdraw(uint256 amount) external nonReentrant {
        balanceOf[msg.sender] -= amount;
        emit Withdrawn(msg.sender, msg.sender, amount);
        token.safeTransfer(msg.sender, amount);
    }

    function sendMessagePayment(
        address recipient,
        bytes32 messageId,
        bytes32 contentHash,
        uint8 channel,
        uint256 amount
    ) external nonReentrant whenNotPaused {
        uint256 fee = amount * feeBps / 10_000;
        balanceOf[msg.sender] -= amount + fee;
        balanceOf[recipient] += amount;
        balanceOf[feeRecipient] += fee;
        uint256 nonce = nonces[msg.sender]++;
        emit MessagePaid(msg.sender, recipient, messageId, amount, fee, contentHash, nonce, channel);
    }
}
