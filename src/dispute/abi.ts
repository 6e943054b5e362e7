// Generated from contracts/dispute/DisputeGame.sol by src/chain/compile.ts (checked by test/dispute/abi.test.ts). Do not edit.

export const disputeGameAbi = [
  {
    "inputs": [
      {
        "internalType": "address",
        "name": "governance_",
        "type": "address"
      },
      {
        "internalType": "contract IERC20",
        "name": "bondToken_",
        "type": "address"
      },
      {
        "internalType": "contract IOneStepVerifier",
        "name": "verifier_",
        "type": "address"
      },
      {
        "internalType": "uint96",
        "name": "bond_",
        "type": "uint96"
      },
      {
        "internalType": "uint64",
        "name": "clock_",
        "type": "uint64"
      },
      {
        "internalType": "uint8",
        "name": "levelsPerMove_",
        "type": "uint8"
      }
    ],
    "stateMutability": "nonpayable",
    "type": "constructor"
  },
  {
    "inputs": [
      {
        "internalType": "uint256",
        "name": "gameId",
        "type": "uint256"
      }
    ],
    "name": "DisputeAlreadyResolved",
    "type": "error"
  },
  {
    "inputs": [
      {
        "internalType": "uint256",
        "name": "gameId",
        "type": "uint256"
      },
      {
        "internalType": "uint256",
        "name": "index",
        "type": "uint256"
      },
      {
        "internalType": "uint256",
        "name": "limit",
        "type": "uint256"
      }
    ],
    "name": "DisputeBadIndex",
    "type": "error"
  },
  {
    "inputs": [],
    "name": "DisputeBadParameter",
    "type": "error"
  },
  {
    "inputs": [
      {
        "internalType": "address",
        "name": "claimant",
        "type": "address"
      },
      {
        "internalType": "address",
        "name": "challenger",
        "type": "address"
      }
    ],
    "name": "DisputeBadParties",
    "type": "error"
  },
  {
    "inputs": [
      {
        "internalType": "uint256",
        "name": "gameId",
        "type": "uint256"
      },
      {
        "internalType": "uint8",
        "name": "which",
        "type": "uint8"
      }
    ],
    "name": "DisputeBadProof",
    "type": "error"
  },
  {
    "inputs": [
      {
        "internalType": "uint256",
        "name": "gameId",
        "type": "uint256"
      },
      {
        "internalType": "address",
        "name": "mover",
        "type": "address"
      },
      {
        "internalType": "uint256",
        "name": "deadline",
        "type": "uint256"
      }
    ],
    "name": "DisputeClockExpired",
    "type": "error"
  },
  {
    "inputs": [
      {
        "internalType": "uint256",
        "name": "gameId",
        "type": "uint256"
      },
      {
        "internalType": "uint256",
        "name": "deadline",
        "type": "uint256"
      }
    ],
    "name": "DisputeClockNotExpired",
    "type": "error"
  },
  {
    "inputs": [
      {
        "internalType": "uint256",
        "name": "gameId",
        "type": "uint256"
      },
      {
        "internalType": "address",
        "name": "mover",
        "type": "address"
      }
    ],
    "name": "DisputeNotYourTurn",
    "type": "error"
  },
  {
    "inputs": [
      {
        "internalType": "address",
        "name": "account",
        "type": "address"
      }
    ],
    "name": "DisputeNothingToClaim",
    "type": "error"
  },
  {
    "inputs": [
      {
        "internalType": "address",
        "name": "caller",
        "type": "address"
      }
    ],
    "name": "DisputeUnauthorizedOpener",
    "type": "error"
  },
  {
    "inputs": [
      {
        "internalType": "uint256",
        "name": "gameId",
        "type": "uint256"
      }
    ],
    "name": "DisputeUnknownGame",
    "type": "error"
  },
  {
    "inputs": [
      {
        "internalType": "uint256",
        "name": "gameId",
        "type": "uint256"
      },
      {
        "internalType": "enum DisputeGame.Phase",
        "name": "phase",
        "type": "uint8"
      }
    ],
    "name": "DisputeWrongMove",
    "type": "error"
  },
  {
    "inputs": [
      {
        "internalType": "address",
        "name": "caller",
        "type": "address"
      }
    ],
    "name": "GovernedUnauthorized",
    "type": "error"
  },
  {
    "inputs": [],
    "name": "GovernedZeroAddress",
    "type": "error"
  },
  {
    "inputs": [],
    "name": "ReentrancyGuardReentrantCall",
    "type": "error"
  },
  {
    "inputs": [
      {
        "internalType": "address",
        "name": "token",
        "type": "address"
      }
    ],
    "name": "SafeERC20FailedOperation",
    "type": "error"
  },
  {
    "anonymous": false,
    "inputs": [
      {
        "indexed": false,
        "internalType": "uint96",
        "name": "bond",
        "type": "uint96"
      }
    ],
    "name": "BondSet",
    "type": "event"
  },
  {
    "anonymous": false,
    "inputs": [
      {
        "indexed": true,
        "internalType": "uint256",
        "name": "gameId",
        "type": "uint256"
      },
      {
        "indexed": false,
        "internalType": "uint256",
        "name": "index",
        "type": "uint256"
      },
      {
        "indexed": false,
        "internalType": "uint8",
        "name": "height",
        "type": "uint8"
      },
      {
        "indexed": false,
        "internalType": "uint32",
        "name": "position",
        "type": "uint32"
      }
    ],
    "name": "ChildPicked",
    "type": "event"
  },
  {
    "anonymous": false,
    "inputs": [
      {
        "indexed": true,
        "internalType": "uint256",
        "name": "gameId",
        "type": "uint256"
      },
      {
        "indexed": false,
        "internalType": "uint8",
        "name": "height",
        "type": "uint8"
      },
      {
        "indexed": false,
        "internalType": "uint32",
        "name": "position",
        "type": "uint32"
      },
      {
        "indexed": false,
        "internalType": "uint8",
        "name": "levels",
        "type": "uint8"
      },
      {
        "indexed": false,
        "internalType": "bool",
        "name": "leaves",
        "type": "bool"
      },
      {
        "indexed": false,
        "internalType": "bytes32[]",
        "name": "children",
        "type": "bytes32[]"
      }
    ],
    "name": "ChildrenRevealed",
    "type": "event"
  },
  {
    "anonymous": false,
    "inputs": [
      {
        "indexed": false,
        "internalType": "uint64",
        "name": "clock",
        "type": "uint64"
      }
    ],
    "name": "ClockSet",
    "type": "event"
  },
  {
    "anonymous": false,
    "inputs": [
      {
        "indexed": true,
        "internalType": "address",
        "name": "account",
        "type": "address"
      },
      {
        "indexed": false,
        "internalType": "uint256",
        "name": "amount",
        "type": "uint256"
      }
    ],
    "name": "CreditClaimed",
    "type": "event"
  },
  {
    "anonymous": false,
    "inputs": [
      {
        "indexed": true,
        "internalType": "uint256",
        "name": "gameId",
        "type": "uint256"
      },
      {
        "indexed": false,
        "internalType": "uint32",
        "name": "tensorId",
        "type": "uint32"
      },
      {
        "indexed": false,
        "internalType": "uint256",
        "name": "elementIndex",
        "type": "uint256"
      },
      {
        "indexed": false,
        "internalType": "int256",
        "name": "claimed",
        "type": "int256"
      },
      {
        "indexed": false,
        "internalType": "int256",
        "name": "computed",
        "type": "int256"
      }
    ],
    "name": "ElementChecked",
    "type": "event"
  },
  {
    "anonymous": false,
    "inputs": [
      {
        "indexed": true,
        "internalType": "uint256",
        "name": "gameId",
        "type": "uint256"
      },
      {
        "indexed": true,
        "internalType": "bytes32",
        "name": "taskKey",
        "type": "bytes32"
      },
      {
        "indexed": true,
        "internalType": "address",
        "name": "claimant",
        "type": "address"
      },
      {
        "indexed": false,
        "internalType": "address",
        "name": "challenger",
        "type": "address"
      },
      {
        "indexed": false,
        "internalType": "address",
        "name": "opener",
        "type": "address"
      },
      {
        "indexed": false,
        "internalType": "bytes32",
        "name": "traceRoot",
        "type": "bytes32"
      },
      {
        "indexed": false,
        "internalType": "bytes32",
        "name": "modelRoot",
        "type": "bytes32"
      },
      {
        "indexed": false,
        "internalType": "bytes32",
        "name": "inputHash",
        "type": "bytes32"
      },
      {
        "indexed": false,
        "internalType": "bytes32",
        "name": "outputHash",
        "type": "bytes32"
      },
      {
        "indexed": false,
        "internalType": "uint96",
        "name": "bond",
        "type": "uint96"
      },
      {
        "indexed": false,
        "internalType": "uint64",
        "name": "clock",
        "type": "uint64"
      }
    ],
    "name": "GameOpened",
    "type": "event"
  },
  {
    "anonymous": false,
    "inputs": [
      {
        "indexed": true,
        "internalType": "uint256",
        "name": "gameId",
        "type": "uint256"
      },
      {
        "indexed": false,
        "internalType": "enum IDisputeResolver.Outcome",
        "name": "outcome",
        "type": "uint8"
      },
      {
        "indexed": false,
        "internalType": "enum DisputeGame.Reason",
        "name": "reason",
        "type": "uint8"
      },
      {
        "indexed": false,
        "internalType": "address",
        "name": "winner",
        "type": "address"
      },
      {
        "indexed": false,
        "internalType": "uint256",
        "name": "pot",
        "type": "uint256"
      }
    ],
    "name": "GameResolved",
    "type": "event"
  },
  {
    "anonymous": false,
    "inputs": [
      {
        "indexed": true,
        "internalType": "address",
        "name": "market",
        "type": "address"
      },
      {
        "indexed": false,
        "internalType": "bool",
        "name": "allowed",
        "type": "bool"
      }
    ],
    "name": "MarketSet",
    "type": "event"
  },
  {
    "anonymous": false,
    "inputs": [
      {
        "indexed": true,
        "internalType": "uint256",
        "name": "gameId",
        "type": "uint256"
      },
      {
        "indexed": false,
        "internalType": "bytes32[]",
        "name": "roots",
        "type": "bytes32[]"
      },
      {
        "indexed": false,
        "internalType": "uint32",
        "name": "numInputs",
        "type": "uint32"
      },
      {
        "indexed": false,
        "internalType": "uint32",
        "name": "numOutputs",
        "type": "uint32"
      }
    ],
    "name": "RootsRevealed",
    "type": "event"
  },
  {
    "anonymous": false,
    "inputs": [
      {
        "indexed": true,
        "internalType": "uint256",
        "name": "gameId",
        "type": "uint256"
      },
      {
        "indexed": false,
        "internalType": "uint32",
        "name": "tensorId",
        "type": "uint32"
      },
      {
        "indexed": false,
        "internalType": "uint32",
        "name": "nodeIndex",
        "type": "uint32"
      },
      {
        "indexed": false,
        "internalType": "uint8",
        "name": "dtype",
        "type": "uint8"
      },
      {
        "indexed": false,
        "internalType": "uint32",
        "name": "numElements",
        "type": "uint32"
      },
      {
        "indexed": false,
        "internalType": "uint8",
        "name": "depth",
        "type": "uint8"
      }
    ],
    "name": "TensorDisputed",
    "type": "event"
  },
  {
    "anonymous": false,
    "inputs": [
      {
        "indexed": true,
        "internalType": "uint256",
        "name": "gameId",
        "type": "uint256"
      },
      {
        "indexed": false,
        "internalType": "bytes32",
        "name": "dataRoot",
        "type": "bytes32"
      }
    ],
    "name": "TensorRevealed",
    "type": "event"
  },
  {
    "inputs": [],
    "name": "MAX_TRACE_TENSORS",
    "outputs": [
      {
        "internalType": "uint256",
        "name": "",
        "type": "uint256"
      }
    ],
    "stateMutability": "view",
    "type": "function"
  },
  {
    "inputs": [],
    "name": "PROOF_CHILDREN",
    "outputs": [
      {
        "internalType": "uint8",
        "name": "",
        "type": "uint8"
      }
    ],
    "stateMutability": "view",
    "type": "function"
  },
  {
    "inputs": [],
    "name": "PROOF_INPUT_ROOT",
    "outputs": [
      {
        "internalType": "uint8",
        "name": "",
        "type": "uint8"
      }
    ],
    "stateMutability": "view",
    "type": "function"
  },
  {
    "inputs": [],
    "name": "PROOF_IO",
    "outputs": [
      {
        "internalType": "uint8",
        "name": "",
        "type": "uint8"
      }
    ],
    "stateMutability": "view",
    "type": "function"
  },
  {
    "inputs": [],
    "name": "PROOF_NODE",
    "outputs": [
      {
        "internalType": "uint8",
        "name": "",
        "type": "uint8"
      }
    ],
    "stateMutability": "view",
    "type": "function"
  },
  {
    "inputs": [],
    "name": "PROOF_ONE_STEP_NODE",
    "outputs": [
      {
        "internalType": "uint8",
        "name": "",
        "type": "uint8"
      }
    ],
    "stateMutability": "view",
    "type": "function"
  },
  {
    "inputs": [],
    "name": "PROOF_REVEALED",
    "outputs": [
      {
        "internalType": "uint8",
        "name": "",
        "type": "uint8"
      }
    ],
    "stateMutability": "view",
    "type": "function"
  },
  {
    "inputs": [],
    "name": "PROOF_TENSOR_IN_TRACE",
    "outputs": [
      {
        "internalType": "uint8",
        "name": "",
        "type": "uint8"
      }
    ],
    "stateMutability": "view",
    "type": "function"
  },
  {
    "inputs": [],
    "name": "PROOF_TENSOR_ROOT",
    "outputs": [
      {
        "internalType": "uint8",
        "name": "",
        "type": "uint8"
      }
    ],
    "stateMutability": "view",
    "type": "function"
  },
  {
    "inputs": [],
    "name": "PROOF_TRACE_ROOTS",
    "outputs": [
      {
        "internalType": "uint8",
        "name": "",
        "type": "uint8"
      }
    ],
    "stateMutability": "view",
    "type": "function"
  },
  {
    "inputs": [
      {
        "internalType": "uint256",
        "name": "gameId",
        "type": "uint256"
      },
      {
        "internalType": "bytes32[]",
        "name": "children",
        "type": "bytes32[]"
      }
    ],
    "name": "bisect",
    "outputs": [],
    "stateMutability": "nonpayable",
    "type": "function"
  },
  {
    "inputs": [],
    "name": "bond",
    "outputs": [
      {
        "internalType": "uint96",
        "name": "",
        "type": "uint96"
      }
    ],
    "stateMutability": "view",
    "type": "function"
  },
  {
    "inputs": [],
    "name": "bondToken",
    "outputs": [
      {
        "internalType": "contract IERC20",
        "name": "",
        "type": "address"
      }
    ],
    "stateMutability": "view",
    "type": "function"
  },
  {
    "inputs": [
      {
        "internalType": "uint256",
        "name": "gameId",
        "type": "uint256"
      }
    ],
    "name": "bondsHeld",
    "outputs": [
      {
        "internalType": "uint256",
        "name": "",
        "type": "uint256"
      }
    ],
    "stateMutability": "view",
    "type": "function"
  },
  {
    "inputs": [],
    "name": "claimCredit",
    "outputs": [],
    "stateMutability": "nonpayable",
    "type": "function"
  },
  {
    "inputs": [],
    "name": "clock",
    "outputs": [
      {
        "internalType": "uint64",
        "name": "",
        "type": "uint64"
      }
    ],
    "stateMutability": "view",
    "type": "function"
  },
  {
    "inputs": [
      {
        "internalType": "address",
        "name": "account",
        "type": "address"
      }
    ],
    "name": "credit",
    "outputs": [
      {
        "internalType": "uint256",
        "name": "",
        "type": "uint256"
      }
    ],
    "stateMutability": "view",
    "type": "function"
  },
  {
    "inputs": [
      {
        "internalType": "uint256",
        "name": "gameId",
        "type": "uint256"
      },
      {
        "internalType": "uint256",
        "name": "tensorId",
        "type": "uint256"
      },
      {
        "internalType": "bytes32",
        "name": "tensorRoot_",
        "type": "bytes32"
      },
      {
        "internalType": "bytes32[]",
        "name": "siblings",
        "type": "bytes32[]"
      },
      {
        "components": [
          {
            "internalType": "uint256",
            "name": "index",
            "type": "uint256"
          },
          {
            "internalType": "uint256",
            "name": "count",
            "type": "uint256"
          },
          {
            "internalType": "bytes",
            "name": "header",
            "type": "bytes"
          },
          {
            "internalType": "bytes32[]",
            "name": "paramRoots",
            "type": "bytes32[]"
          },
          {
            "internalType": "bytes32[]",
            "name": "siblings",
            "type": "bytes32[]"
          }
        ],
        "internalType": "struct NodeProof",
        "name": "node",
        "type": "tuple"
      }
    ],
    "name": "disputeTensor",
    "outputs": [],
    "stateMutability": "nonpayable",
    "type": "function"
  },
  {
    "inputs": [
      {
        "internalType": "uint256",
        "name": "gameId",
        "type": "uint256"
      }
    ],
    "name": "game",
    "outputs": [
      {
        "components": [
          {
            "internalType": "address",
            "name": "claimant",
            "type": "address"
          },
          {
            "internalType": "uint64",
            "name": "lastMoveAt",
            "type": "uint64"
          },
          {
            "internalType": "enum DisputeGame.Phase",
            "name": "phase",
            "type": "uint8"
          },
          {
            "internalType": "enum IDisputeResolver.Outcome",
            "name": "outcome",
            "type": "uint8"
          },
          {
            "internalType": "bool",
            "name": "claimantBonded",
            "type": "bool"
          },
          {
            "internalType": "address",
            "name": "challenger",
            "type": "address"
          },
          {
            "internalType": "uint64",
            "name": "claimantTimeLeft",
            "type": "uint64"
          },
          {
            "internalType": "uint32",
            "name": "count",
            "type": "uint32"
          },
          {
            "internalType": "uint96",
            "name": "bond",
            "type": "uint96"
          },
          {
            "internalType": "uint64",
            "name": "challengerTimeLeft",
            "type": "uint64"
          },
          {
            "internalType": "uint32",
            "name": "numInputs",
            "type": "uint32"
          },
          {
            "internalType": "uint32",
            "name": "tensorId",
            "type": "uint32"
          },
          {
            "internalType": "uint32",
            "name": "nodeIndex",
            "type": "uint32"
          },
          {
            "internalType": "uint8",
            "name": "dtype",
            "type": "uint8"
          },
          {
            "internalType": "uint8",
            "name": "levelsLeft",
            "type": "uint8"
          },
          {
            "internalType": "uint8",
            "name": "pendingLevels",
            "type": "uint8"
          },
          {
            "internalType": "uint32",
            "name": "numElements",
            "type": "uint32"
          },
          {
            "internalType": "uint32",
            "name": "position",
            "type": "uint32"
          },
          {
            "internalType": "bytes32",
            "name": "traceRoot",
            "type": "bytes32"
          },
          {
            "internalType": "bytes32",
            "name": "modelRoot",
            "type": "bytes32"
          },
          {
            "internalType": "bytes32",
            "name": "check",
            "type": "bytes32"
          },
          {
            "internalType": "bytes32",
            "name": "node",
            "type": "bytes32"
          }
        ],
        "internalType": "struct DisputeGame.Game",
        "name": "",
        "type": "tuple"
      }
    ],
    "stateMutability": "view",
    "type": "function"
  },
  {
    "inputs": [],
    "name": "gameCount",
    "outputs": [
      {
        "internalType": "uint256",
        "name": "",
        "type": "uint256"
      }
    ],
    "stateMutability": "view",
    "type": "function"
  },
  {
    "inputs": [],
    "name": "governance",
    "outputs": [
      {
        "internalType": "address",
        "name": "",
        "type": "address"
      }
    ],
    "stateMutability": "view",
    "type": "function"
  },
  {
    "inputs": [
      {
        "internalType": "address",
        "name": "market",
        "type": "address"
      }
    ],
    "name": "isMarket",
    "outputs": [
      {
        "internalType": "bool",
        "name": "",
        "type": "bool"
      }
    ],
    "stateMutability": "view",
    "type": "function"
  },
  {
    "inputs": [],
    "name": "levelsPerMove",
    "outputs": [
      {
        "internalType": "uint8",
        "name": "",
        "type": "uint8"
      }
    ],
    "stateMutability": "view",
    "type": "function"
  },
  {
    "inputs": [
      {
        "internalType": "uint256",
        "name": "gameId",
        "type": "uint256"
      },
      {
        "components": [
          {
            "internalType": "bytes32[]",
            "name": "words",
            "type": "bytes32[]"
          },
          {
            "internalType": "uint256",
            "name": "pick",
            "type": "uint256"
          },
          {
            "internalType": "uint256",
            "name": "elementInWord",
            "type": "uint256"
          }
        ],
        "internalType": "struct DisputeGame.LeafChoice",
        "name": "leaf",
        "type": "tuple"
      },
      {
        "components": [
          {
            "components": [
              {
                "internalType": "uint256",
                "name": "index",
                "type": "uint256"
              },
              {
                "internalType": "uint256",
                "name": "count",
                "type": "uint256"
              },
              {
                "internalType": "bytes",
                "name": "header",
                "type": "bytes"
              },
              {
                "internalType": "bytes32[]",
                "name": "paramRoots",
                "type": "bytes32[]"
              },
              {
                "internalType": "bytes32[]",
                "name": "siblings",
                "type": "bytes32[]"
              }
            ],
            "internalType": "struct NodeProof",
            "name": "node",
            "type": "tuple"
          },
          {
            "components": [
              {
                "internalType": "uint256",
                "name": "leafCount",
                "type": "uint256"
              },
              {
                "internalType": "uint256[]",
                "name": "indices",
                "type": "uint256[]"
              },
              {
                "internalType": "bytes32[]",
                "name": "words",
                "type": "bytes32[]"
              },
              {
                "internalType": "bytes32[]",
                "name": "siblings",
                "type": "bytes32[]"
              }
            ],
            "internalType": "struct WordsProof[]",
            "name": "inputs",
            "type": "tuple[]"
          },
          {
            "components": [
              {
                "internalType": "uint256",
                "name": "leafCount",
                "type": "uint256"
              },
              {
                "internalType": "uint256[]",
                "name": "indices",
                "type": "uint256[]"
              },
              {
                "internalType": "bytes32[]",
                "name": "words",
                "type": "bytes32[]"
              },
              {
                "internalType": "bytes32[]",
                "name": "siblings",
                "type": "bytes32[]"
              }
            ],
            "internalType": "struct WordsProof[]",
            "name": "params",
            "type": "tuple[]"
          },
          {
            "internalType": "uint256",
            "name": "outputIndex",
            "type": "uint256"
          }
        ],
        "internalType": "struct OneStep",
        "name": "step",
        "type": "tuple"
      },
      {
        "components": [
          {
            "internalType": "bytes32[]",
            "name": "roots",
            "type": "bytes32[]"
          },
          {
            "internalType": "bytes32[][]",
            "name": "siblings",
            "type": "bytes32[][]"
          }
        ],
        "internalType": "struct DisputeGame.InputRoots",
        "name": "inputs",
        "type": "tuple"
      }
    ],
    "name": "oneStep",
    "outputs": [],
    "stateMutability": "nonpayable",
    "type": "function"
  },
  {
    "inputs": [
      {
        "internalType": "bytes32",
        "name": "taskKey",
        "type": "bytes32"
      },
      {
        "internalType": "address",
        "name": "claimant",
        "type": "address"
      },
      {
        "internalType": "address",
        "name": "challenger",
        "type": "address"
      },
      {
        "internalType": "bytes32",
        "name": "claimedRoot",
        "type": "bytes32"
      },
      {
        "internalType": "bytes32",
        "name": "modelRoot",
        "type": "bytes32"
      },
      {
        "internalType": "bytes32",
        "name": "inputHash",
        "type": "bytes32"
      },
      {
        "internalType": "bytes32",
        "name": "outputHash",
        "type": "bytes32"
      }
    ],
    "name": "open",
    "outputs": [
      {
        "internalType": "uint256",
        "name": "gameId",
        "type": "uint256"
      }
    ],
    "stateMutability": "nonpayable",
    "type": "function"
  },
  {
    "inputs": [
      {
        "internalType": "uint256",
        "name": "gameId",
        "type": "uint256"
      }
    ],
    "name": "outcome",
    "outputs": [
      {
        "internalType": "enum IDisputeResolver.Outcome",
        "name": "",
        "type": "uint8"
      }
    ],
    "stateMutability": "view",
    "type": "function"
  },
  {
    "inputs": [
      {
        "internalType": "uint256",
        "name": "gameId",
        "type": "uint256"
      },
      {
        "internalType": "bytes32[]",
        "name": "children",
        "type": "bytes32[]"
      },
      {
        "internalType": "uint256",
        "name": "index",
        "type": "uint256"
      }
    ],
    "name": "pick",
    "outputs": [],
    "stateMutability": "nonpayable",
    "type": "function"
  },
  {
    "inputs": [
      {
        "internalType": "uint256",
        "name": "gameId",
        "type": "uint256"
      },
      {
        "internalType": "bytes32[]",
        "name": "roots",
        "type": "bytes32[]"
      },
      {
        "internalType": "uint32",
        "name": "numInputs",
        "type": "uint32"
      },
      {
        "internalType": "uint32",
        "name": "numOutputs",
        "type": "uint32"
      }
    ],
    "name": "revealRoots",
    "outputs": [],
    "stateMutability": "nonpayable",
    "type": "function"
  },
  {
    "inputs": [
      {
        "internalType": "uint256",
        "name": "gameId",
        "type": "uint256"
      },
      {
        "internalType": "uint8",
        "name": "dtype",
        "type": "uint8"
      },
      {
        "internalType": "uint32[]",
        "name": "shape",
        "type": "uint32[]"
      },
      {
        "internalType": "bytes32",
        "name": "dataRoot",
        "type": "bytes32"
      },
      {
        "internalType": "bytes32[]",
        "name": "children",
        "type": "bytes32[]"
      }
    ],
    "name": "revealTensor",
    "outputs": [],
    "stateMutability": "nonpayable",
    "type": "function"
  },
  {
    "inputs": [
      {
        "internalType": "uint96",
        "name": "bond_",
        "type": "uint96"
      }
    ],
    "name": "setBond",
    "outputs": [],
    "stateMutability": "nonpayable",
    "type": "function"
  },
  {
    "inputs": [
      {
        "internalType": "uint64",
        "name": "clock_",
        "type": "uint64"
      }
    ],
    "name": "setClock",
    "outputs": [],
    "stateMutability": "nonpayable",
    "type": "function"
  },
  {
    "inputs": [
      {
        "internalType": "address",
        "name": "market",
        "type": "address"
      },
      {
        "internalType": "bool",
        "name": "allowed",
        "type": "bool"
      }
    ],
    "name": "setMarket",
    "outputs": [],
    "stateMutability": "nonpayable",
    "type": "function"
  },
  {
    "inputs": [
      {
        "internalType": "uint256",
        "name": "gameId",
        "type": "uint256"
      }
    ],
    "name": "timeout",
    "outputs": [],
    "stateMutability": "nonpayable",
    "type": "function"
  },
  {
    "inputs": [
      {
        "internalType": "uint256",
        "name": "gameId",
        "type": "uint256"
      }
    ],
    "name": "turn",
    "outputs": [
      {
        "internalType": "address",
        "name": "mover",
        "type": "address"
      },
      {
        "internalType": "uint256",
        "name": "deadline",
        "type": "uint256"
      }
    ],
    "stateMutability": "view",
    "type": "function"
  },
  {
    "inputs": [],
    "name": "verifier",
    "outputs": [
      {
        "internalType": "contract IOneStepVerifier",
        "name": "",
        "type": "address"
      }
    ],
    "stateMutability": "view",
    "type": "function"
  }
] as const;
