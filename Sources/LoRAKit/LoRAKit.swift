// The public face of LoRAKit: one import for the whole library.
@_exported import LoRAKitAdapters
@_exported import LoRAKitCore
@_exported import LoRAKitFormats
@_exported import LoRAKitModels
@_exported import LoRAKitServe
@_exported import LoRAKitTokenizers
@_exported import LoRAKitTrain
