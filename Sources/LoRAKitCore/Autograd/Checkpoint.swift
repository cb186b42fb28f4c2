/// Gradient checkpointing (PyTorch's `torch.utils.checkpoint`): runs `body` without keeping its intermediate
/// tensors, and runs it again during backward to get its gradients. Memory for activations drops to one tensor per
/// checkpointed block, for about one extra forward pass of compute.
///
/// `body` must compute the same function both times (same dropout seeds, no state changes in between); its
/// trainable leaves (adapter weights) get their gradients from the recomputation.
/// - Parameter input: the block's input; its gradient flows back when it requires grad.
public func checkpointed(_ input: Tensor, _ body: @escaping (Tensor) -> Tensor) -> Tensor {
    guard GradMode.isEnabled else { return body(input) }
    var output = withNoGrad { body(input.detached()) }
    let needsInputGrad = input.requiresGrad
    output.node = GradNode(name: "checkpoint", inputs: [input.node]) { g in
        let replay = needsInputGrad ? input.detached().requiringGrad(name: "checkpoint input") : input.detached()
        let recomputed = withGradEnabled { body(replay) }
        recomputed.backward(seed: g)
        return [needsInputGrad ? replay.grad : nil]
    }
    return output
}
