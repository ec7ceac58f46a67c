// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {Deploy} from "./Deploy.s.sol";

/// @notice Base Sepolia (chain 84532) deployment against Circle's test USDC, or TOKEN if set.
/// @dev npm run contracts:deploy:sepolia, with BASE_SEPOLIA_RPC_URL and DEPLOYER_PRIVATE_KEY in the environment
///      (OWNER, FEE_RECIPIENT, FEE_BPS, RELAYER optional, as in Deploy). Writes deployments/84532.json.
contract DeploySepolia is Deploy {
    /// @notice Circle's USDC on Base Sepolia.
    address public constant BASE_SEPOLIA_USDC = 0x036CbD53842c5426634e7929541eC2318f3dCF7e;

    function run() public override returns (Deployment memory) {
        require(block.chainid == 84_532, "not Base Sepolia (84532)");
        return _deploy(vm.envOr("TOKEN", BASE_SEPOLIA_USDC));
    }
}
