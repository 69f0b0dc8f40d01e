"""What each setting does and when a learner would change it, in one or two plain sentences.

`dlapp.config` puts these in its fields' metadata, so the Train page's widgets, the CLI's
`--help` and the lessons all say the same words. Keep each claim one the person's own runs
can confirm.
"""

HELP: dict[str, str] = {
    # data
    "dataset": "Which images to learn from: handwritten digits (MNIST), clothing (Fashion-MNIST), or the "
    "5,000-digit sample that ships with the app and works offline. Use the sample for quick tries.",
    "validation_split": "Share of the training images set aside and checked after every epoch, never trained on. "
    "Their loss shows whether the model learns digits or memorises its examples.",
    "train_subset": "Train on only this many images (0 = all). A small subset trains fast and makes "
    "overfitting easy to see.",
    "pen_digits": "Also train on this many of 4,494 digits real people wrote on a tablet (0 = none), drawn as "
    "mouse strokes the way the Draw page draws them. The model then reads drawings more like people's, at the "
    "cost of longer epochs.",
    # model
    "arch": "The kind of network: an MLP sees the image as one row of pixels, a CNN looks at small patches, "
    "an RNN reads it row by row, an autoencoder learns to squeeze and redraw it, a ResNet is a deep CNN "
    "with shortcuts.",
    "hidden_units": "Neurons in each hidden layer, one number per layer. More or bigger layers can learn more, "
    "but train slower and overfit sooner.",
    "activation": "The function each neuron applies to its weighted sum, like relu = max(0, x). Try sigmoid in "
    "a deep network to watch the gradients vanish.",
    "dropout": "During training, randomly silences this fraction of a layer's outputs, so the network cannot "
    "rely on any single neuron. Raise it when validation accuracy falls behind training accuracy.",
    "batch_norm": "Rescales each hidden layer's outputs to mean 0 and spread 1 over the batch. Turn it on when "
    "a deep network learns slowly or not at all.",
    "l2": "Adds this times the sum of squared weights to the loss, pulling the weights towards zero (0 = off). "
    "Raise it, to 0.001 say, when the model overfits.",
    "loss": "What training minimises: cross-entropy punishes a confident wrong answer hard, MSE (mean squared "
    "error against the one-hot target) only by its distance. Switch to mse to see why classifiers use "
    "cross-entropy.",
    "conv_filters": "Filters in each convolution block, one number per block; each filter learns one small "
    "pattern, like an edge. More filters find more patterns but take longer.",
    "kernel_size": "Width in pixels of the square patch each filter looks at. 3 is usual; larger sees more at "
    "once but has more weights.",
    "pooling": "After each block, keep the largest (max) or the average (avg) of each 2x2 patch, halving the "
    "image; none keeps the full size, which is slower.",
    "dense_units": "Neurons in the dense layer after the convolutions (0 = none: straight to the output).",
    "rnn_cell": "The unit that reads one row per step: simple forgets quickly; LSTM and GRU have gates that "
    "keep what matters across all 28 rows.",
    "rnn_units": "Size of the memory each recurrent layer carries from row to row, one number per layer. "
    "More remembers more but trains slower.",
    "bidirectional": "Also read the rows from bottom to top and combine both readings. Often a little more "
    "accurate, for twice the work.",
    "encoder_units": "Neurons in each encoder layer, from the image down towards the code; the decoder mirrors them.",
    "latent_dim": "How many numbers the autoencoder squeezes each image into. 2 can be drawn as a map; more "
    "keeps more detail in the reconstructions.",
    "reconstruction_loss": "How a redrawn image is scored against the original: binary cross-entropy treats "
    "each pixel as ink or no ink, MSE measures brightness differences.",
    "resnet_stages": "Groups of residual blocks; each later stage halves the image and doubles the filters. "
    "More stages make a deeper network.",
    "resnet_blocks": "Residual blocks in each stage; each adds its result to its input (y = x + F(x)), so "
    "gradients reach the early layers even in a deep network.",
    "resnet_width": "Filters in the first stage; each later stage doubles them. Wider learns more patterns "
    "but trains slower.",
    "augment": "While training, shows each image slightly shifted, turned and zoomed, so the model learns the "
    "digit rather than its exact pixels. Turn it on when the model overfits or must read your drawings.",
    "bend": "While training, bends each digit as a whole by up to about this many pixels (0 = off): a 6 with a "
    "bigger loop, a curved 1, shapes people draw that MNIST has few of. Helps the CNN read drawings.",
    "deskew": "Stands every digit upright before the first layer, training and drawing alike (image moments, the "
    "classic MNIST step), so a slanted 1 or 7 looks like an upright one. Reads drawings better.",
    "augment_shift": "Largest random shift, as a fraction of the 28-pixel image (0.1 is about 3 pixels).",
    "augment_rotation": "Largest random rotation, in degrees. Keep it small: a 6 turned too far is a 9.",
    "augment_zoom": "Largest random zoom in or out, as a fraction (0.1 = up to 10%).",
    "augment_thickness": "Randomly draws each training digit with a thinner or thicker pen (1 = up to 1 px either "
    "way), as mouse strokes vary. Raise it when your drawings are read worse than the test digits.",
    "augment_elastic": "Randomly wobbles each training digit's strokes by up to this many pixels (0 = off), like a "
    "shaky hand. Helps a model read drawn digits; too much blurs what a digit looks like.",
    "augment_top_bottom": "Randomly gives each training digit a bigger top and smaller bottom or the reverse "
    "(0.5 = up to 1.5 times; 0 = off), like a 6 whose loop fills the digit or a 9 with a big head.",
    # training
    "optimizer": "The rule that turns gradients into weight changes: SGD steps straight down the gradient, "
    "RMSprop and Adam adapt the step for each weight, AdamW is Adam with weight decay. Adam is a good "
    "first choice.",
    "learning_rate": "How big a step each update takes (η in w ← w − η∇L). Too small and the loss barely "
    "moves; too large and it jumps about or grows.",
    "lr_schedule": "How the learning rate changes during training: constant keeps it fixed; cosine lowers it "
    "smoothly to 0 by the last batch, big steps first, then fine ones that settle the weights.",
    "label_smoothing": "Cross-entropy only: aims for a little less than 100% on the right digit (0.1 = 90% plus "
    "an even share of the rest; 0 = off), so the model is less sure of itself and often reads new digits better.",
    "momentum": "SGD only: how much of the previous step carries into the next, like a ball rolling downhill. "
    "0.9 is usual; 0 is plain gradient descent.",
    "weight_decay": "AdamW only: shrinks every weight a little at each step, keeping the weights small. Raise "
    "it when the model overfits.",
    "batch_size": "Images averaged into each gradient step. Smaller batches take more, noisier steps per "
    "epoch; larger ones take fewer, smoother steps.",
    "epochs": "How many times training goes through all the training images. Raise it while validation loss "
    "still falls; once it rises, more epochs only overfit.",
    "early_stopping": "Stop when validation loss has not improved for this many epochs, and keep the best "
    "weights (0 = off). A cure for overfitting that also saves time.",
    "seed": "Starting point for the random weights and the shuffling: the same seed gives the same curve. "
    "Change it to see how much a result owes to luck.",
    "precision": "Number format for the layers' maths: auto picks the fastest this machine has (bfloat16 on a "
    "CPU with bf16 instructions, float16 on a GPU, else float32); outputs stay float32. Pick float32 if the "
    "loss turns into nan.",
}
