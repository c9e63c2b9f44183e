"""SAM 2's mask decoder for many point prompts on one image, without per-prompt copies.

transformers' `Sam2MaskDecoder` copies the image embedding, its positional encoding and
both high-resolution feature maps once per prompt before its two-way transformer, and
projects those identical copies again for every prompt. On a CPU those copies and adds
were half of the decoder's time. This computes the same function from the same modules:
what is the same for every prompt (the first block's image-side projections, the
positional encoding, the high-resolution features) is computed once and broadcast; the
image-to-token attention's output projection is folded into its values, so the per-prompt
(tokens x image) attention output is never laid out head by head. The result equals
the library's forward to float rounding (tests/engine/test_fast_finder.py).
"""

from __future__ import annotations

import torch
from torch.nn.functional import scaled_dot_product_attention


def _heads(attention, states: torch.Tensor) -> torch.Tensor:
    """(..., tokens, internal) -> (..., heads, tokens, head_dim)."""
    return states.unflatten(-1, (attention.num_attention_heads, attention.head_dim)).transpose(-3, -2)


def _token_to_image(attention, queries, keys_with_pe, keys) -> torch.Tensor:
    """The prompts' tokens (P x T x C) attending to the image (1 or P x N x C)."""
    prompts, tokens, _ = queries.shape
    key = _heads(attention, attention.k_proj(keys_with_pe))
    value = _heads(attention, attention.v_proj(keys))
    query = _heads(attention, attention.q_proj(queries))
    if len(keys) == 1:  # one image for every prompt: all prompts' tokens query it at once
        query = query.transpose(0, 1).flatten(1, 2)[None]
    out = scaled_dot_product_attention(query, key, value, scale=attention.scaling)
    out = out.transpose(-3, -2).flatten(-2)  # (..., tokens, internal)
    return attention.o_proj(out.reshape(prompts, tokens, -1))


def _image_to_token(attention, keys_with_pe, queries_with_pe, queries) -> torch.Tensor:
    """The image (1 or P x N x C) attending to each prompt's tokens (P x T x C): P x N x C."""
    heads, head_dim = attention.num_attention_heads, attention.head_dim
    prompts, tokens, _ = queries.shape
    query = _heads(attention, attention.q_proj(keys_with_pe))  # (1|P) x H x N x d
    key = _heads(attention, attention.k_proj(queries_with_pe))  # P x H x T x d
    value = _heads(attention, attention.v_proj(queries))
    # The output projection applied to each head's values: P x (H*T) x C.
    weight = attention.o_proj.weight.T.reshape(heads, head_dim, -1)
    projected = torch.einsum("phtd,hdc->phtc", value, weight).flatten(1, 2)
    if len(query) == 1:
        scores = query[0] @ key.permute(1, 3, 0, 2).flatten(2)  # H x N x (P*T)
        weights = _softmax(scores.unflatten(-1, (prompts, tokens)) * attention.scaling)
        weights = weights.permute(2, 1, 0, 3)
    else:
        scores = query @ key.transpose(-1, -2)  # P x H x N x T
        weights = _softmax(scores * attention.scaling).permute(0, 2, 1, 3)
    weights = weights.flatten(2)  # P x N x (H*T)
    return torch.baddbmm(attention.o_proj.bias, weights, projected)


def _softmax(scores: torch.Tensor) -> torch.Tensor:
    """Softmax over the last, short axis (a prompt's few tokens), faster than torch's there."""
    weights = (scores - scores.amax(dim=-1, keepdim=True)).exp_()
    return weights / weights.sum(dim=-1, keepdim=True)


def decode_points(model, embeddings: list[torch.Tensor], points: torch.Tensor
                  ) -> tuple[torch.Tensor, torch.Tensor]:
    """`Sam2Model(image_embeddings=embeddings, input_points=points[None, :, None, :],
    multimask_output=True)` for P points (P x 2, in the encoder's input pixels) on one
    image: its pred_masks[0] (P x 3 x h x w logits) and iou_scores[0] (P x 3)."""
    decoder = model.mask_decoder
    feat_s0, feat_s1, image = embeddings
    labels = torch.ones(1, len(points), 1, dtype=torch.int, device=points.device)
    sparse, dense = model.prompt_encoder(input_points=points[None, :, None, :],
                                         input_labels=labels, input_boxes=None, input_masks=None)
    output_tokens = torch.cat([decoder.obj_score_token.weight, decoder.iou_token.weight,
                               decoder.mask_tokens.weight])
    point_embedding = torch.cat(
        [output_tokens.expand(len(points), -1, -1), sparse[0].to(output_tokens.dtype)], dim=1)
    _, channels, height, width = image.shape
    keys = (image + dense).flatten(2).transpose(1, 2)  # 1 x N x C, shared until updated
    position = model.get_image_wide_positional_embeddings().flatten(2).transpose(1, 2)

    queries = point_embedding
    for layer in decoder.transformer.layers:
        if layer.skip_first_layer_pe:
            queries = layer.self_attn(query=queries[None], key=queries[None],
                                      value=queries[None])[0][0]
        else:
            query = (queries + point_embedding)[None]
            queries = queries + layer.self_attn(query=query, key=query, value=queries[None])[0][0]
        queries = layer.layer_norm1(queries)
        keys_with_pe = keys + position
        queries = layer.layer_norm2(queries + _token_to_image(
            layer.cross_attn_token_to_image, queries + point_embedding, keys_with_pe, keys))
        queries = layer.layer_norm3(queries + layer.mlp(queries))
        keys = layer.layer_norm4(_image_to_token(
            layer.cross_attn_image_to_token, keys_with_pe, queries + point_embedding, queries
        ).add_(keys))
    transformer = decoder.transformer
    queries = transformer.layer_norm_final_attn(queries + _token_to_image(
        transformer.final_attn_token_to_image, queries + point_embedding, keys + position, keys))

    grid = keys.unflatten(1, (height, width)).permute(0, 3, 1, 2)  # P x C x h x w
    upscaled = decoder.upscale_conv1(grid).add_(feat_s1)
    upscaled = decoder.activation(decoder.upscale_layer_norm(upscaled))
    upscaled = decoder.activation(decoder.upscale_conv2(upscaled).add_(feat_s0))
    chosen = range(1, decoder.num_mask_tokens)  # the multimask outputs
    hyper = torch.stack([decoder.output_hypernetworks_mlps[i](queries[:, 2 + i]) for i in chosen],
                        dim=1)  # P x 3 x c
    masks = hyper @ upscaled.flatten(2)
    iou = decoder.iou_prediction_head(queries[:, 1])[:, 1:]
    return masks.unflatten(-1, upscaled.shape[-2:]), iou
