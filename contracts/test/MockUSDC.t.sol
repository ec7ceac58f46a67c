// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {Test} from "forge-std/Test.sol";

import {MockUSDC} from "../src/MockUSDC.sol";

contract MockUSDCTest is Test {
    MockUSDC internal usdc;

    function setUp() public {
        usdc = new MockUSDC();
    }

    function test_metadata() public view {
        assertEq(usdc.decimals(), 6);
        assertEq(usdc.symbol(), "USDC");
        assertEq(usdc.name(), "Mock USDC");
    }

    function test_mint() public {
        usdc.mint(address(this), 5e6);
        assertEq(usdc.balanceOf(address(this)), 5e6);
        assertEq(usdc.totalSupply(), 5e6);
    }

    function test_permit() public {
        (address holder, uint256 key) = makeAddrAndKey("holder");
        bytes32 structHash = keccak256(
            abi.encode(
                keccak256("Permit(address owner,address spender,uint256 value,uint256 nonce,uint256 deadline)"),
                holder,
                address(this),
                7,
                0,
                block.timestamp
            )
        );
        (uint8 v, bytes32 r, bytes32 s) =
            vm.sign(key, keccak256(abi.encodePacked("\x19\x01", usdc.DOMAIN_SEPARATOR(), structHash)));
        usdc.permit(holder, address(this), 7, block.timestamp, v, r, s);
        assertEq(usdc.allowance(holder, address(this)), 7);
        assertEq(usdc.nonces(holder), 1);
    }
}
