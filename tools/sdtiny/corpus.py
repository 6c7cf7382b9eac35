"""A deterministic corpus of English text-to-image prompts, the training text of the tiny tokenizers.

    corpus(n_prompts=1500, seed=1234) -> list[str]

Prompts are drawn from hand-written word lists (subjects, settings, styles, lighting, camera words, a few
accented words and numbers), so the tokenizers learn subwords that the fixture prompts use. Nothing here is
copied from a real prompt data set.
"""
import random

SUBJECTS = [
    'an astronaut', 'a horse', 'a cat', 'a dog', 'a fox', 'a red fox', 'an old man', 'a young woman', 'a child',
    'a robot', 'a dragon', 'a castle', 'a lighthouse', 'a sailboat', 'a steam train', 'a bicycle', 'a vintage car',
    'a mountain village', 'a forest cabin', 'a city street', 'a cup of coffee', 'a bowl of fruit', 'a teapot',
    'a violin', 'a piano', 'a wizard', 'a knight', 'a samurai', 'an owl', 'a hummingbird', 'a whale', 'a jellyfish',
    'a tiger', 'a panda', 'a koala', 'an elephant', 'a giraffe', 'a butterfly', 'a sunflower field', 'a waterfall',
    'a desert oasis', 'a space station', 'a spaceship', 'a portrait of a scientist', 'a chef', 'a ballerina',
    'a skateboarder', 'a surfer', 'a mermaid', 'a snowman', 'a treehouse', 'a bridge', 'a windmill', 'a temple',
    'a library', 'a bakery', 'a market', 'a farmer', 'a sculpture', 'a clock tower', 'a hot air balloon',
]
ACTIONS = [
    'riding a horse', 'reading a book', 'playing the violin', 'walking in the rain', 'sitting on a bench',
    'flying over the ocean', 'sleeping under a tree', 'dancing in the street', 'drinking tea', 'looking at the stars',
    'holding an umbrella', 'running through a field', 'standing on a cliff', 'swimming in a lake',
    'painting a picture', 'cooking dinner', 'wearing a hat', 'wearing sunglasses', 'made of glass', 'made of wood',
    'covered in snow', 'surrounded by flowers', 'in a spacesuit', 'on a skateboard',
]
PLACES = [
    'on mars', 'on the moon', 'in paris', 'in tokyo', 'in new york', 'in a forest', 'in the mountains',
    'at the beach', 'in a desert', 'underwater', 'in a garden', 'in a kitchen', 'in a cathedral', 'at sunset',
    'at night', 'in the snow', 'in a cyberpunk city', 'in a medieval town', 'in the jungle', 'on a rooftop',
    'in a cozy room', 'near a river', 'above the clouds', 'in a field of tulips', 'in venice', 'in iceland',
]
STYLES = [
    'oil painting', 'watercolor', 'digital art', 'concept art', 'pencil sketch', 'charcoal drawing',
    'studio photograph', 'cinematic still', 'anime style', 'pixel art', 'low poly', 'isometric', '3d render',
    'unreal engine', 'octane render', 'matte painting', 'impressionism', 'surrealism', 'art nouveau', 'ukiyo-e',
    'baroque', 'minimalist', 'vaporwave', 'steampunk', 'photorealistic', 'hyperrealistic', 'illustration',
    'children\'s book illustration', 'comic book style', 'stained glass', 'papercut', 'claymation',
]
LIGHT = [
    'golden hour', 'soft lighting', 'dramatic lighting', 'volumetric light', 'rim light', 'studio lighting',
    'neon lights', 'moonlight', 'backlit', 'overcast', 'foggy', 'misty', 'sunny', 'god rays', 'candlelight',
]
QUALITY = [
    'highly detailed', 'sharp focus', 'intricate', '4k', '8k', 'high resolution', 'masterpiece', 'best quality',
    'trending on artstation', 'award winning', 'professional', 'bokeh', 'depth of field', 'wide angle',
    '35mm', '50mm lens', 'f/1.8', 'film grain', 'kodak portra 400', 'hdr', 'vivid colors', 'pastel colors',
    'muted colors', 'black and white', 'symmetrical', 'centered', 'close-up', 'full body', 'aerial view',
]
NEGATIVE = [
    'blurry', 'low quality', 'worst quality', 'jpeg artifacts', 'watermark', 'text', 'signature', 'deformed',
    'bad anatomy', 'extra fingers', 'ugly', 'duplicate', 'cropped', 'out of frame', 'lowres', 'noisy',
]
EXTRA = [
    'café', 'naïve', 'résumé', 'façade', 'jalapeño', 'über', 'crème brûlée', 'fiancée', 'piñata', 'smörgåsbord',
    'déjà vu', 'doppelgänger', 'the 1920s', 'the year 2077', 'version 2.0', 'room 101', '3 apples', '12 stars',
    'it\'s raining', 'they\'re happy', 'we\'ve arrived', 'i\'m here', 'you\'ll see', 'he\'d go', 'don\'t stop',
]


def corpus(n_prompts: int = 1500, seed: int = 1234) -> list:
    """`n_prompts` comma-separated prompts; the same list for the same arguments."""
    rnd = random.Random(seed)
    out = []
    for _ in range(n_prompts):
        parts = [rnd.choice(SUBJECTS)]
        if rnd.random() < 0.6:
            parts[0] += ' ' + rnd.choice(ACTIONS)
        if rnd.random() < 0.6:
            parts[0] += ' ' + rnd.choice(PLACES)
        pools = [STYLES, LIGHT, QUALITY, QUALITY, EXTRA]
        for _ in range(rnd.randint(1, 5)):
            parts.append(rnd.choice(rnd.choice(pools)))
        text = ', '.join(parts)
        if rnd.random() < 0.15:
            text = text.capitalize()
        if rnd.random() < 0.1:
            text += '.'
        out.append(text)
    for _ in range(n_prompts // 10):
        out.append(', '.join(rnd.sample(NEGATIVE, rnd.randint(2, 6))))
    return out


if __name__ == '__main__':
    c = corpus()
    print(len(c), 'prompts,', sum(len(p.split()) for p in c), 'words')
    print('\n'.join(c[:5]))
