import torch

from llcore.tasks.pose_vae import DecoderMapping, load_pose_vae, train_pose_vae
from llcore.tasks.poses import sample_poses


def test_vae_learns_and_its_decoder_is_a_mapping_starting_at_the_prior_mean():
    torch.set_num_threads(1)
    poses = sample_poses(256, seed=0)
    art = train_pose_vae(poses, latent=8, steps=150, batch=64, progress=False)
    assert sum(art["losses"][-10:]) < 0.5 * sum(art["losses"][:10])
    theta = DecoderMapping(load_pose_vae(art))
    z0 = theta.initial_z(torch.zeros(5, 72))
    assert z0.shape == (5, 8) and not z0.any()
    assert theta(z0).shape == (5, 72)
