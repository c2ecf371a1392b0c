// Public surface of src/train/torch: the PyTorch back end of `iopo train --engine torch` (hand-off, launch, plan).

export { type TorchRunInputs, trainTorch } from "./engine.ts";
export { weightsHashOfDir } from "./hash.ts";
export { launchLines, launchRanks, type RankEvent } from "./launch.ts";
export { adapterTable, LORA_TARGETS, type LoraSettings, loraOf } from "./lora.ts";
export { checkTorch, INSTALL_HINT, PYTHON_DIR, pythonEnv, pythonPath, type TorchInfo, torchVersion } from "./python.ts";
